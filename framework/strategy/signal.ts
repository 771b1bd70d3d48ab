import { z } from 'zod';

/**
 * What a strategy asks for on a closed candle:
 * - `enter_long` / `enter_short`: open a position (an opposite open position is closed first: a reversal); while a
 *   position of the same side is open, ignored unless the signal has `add: true` (then it scales in);
 * - `exit_long` / `exit_short`: close the open position of that side, or the part of it given by `size`
 *   (ignored when there is none).
 */
export type SignalAction = 'enter_long' | 'exit_long' | 'enter_short' | 'exit_short';

/** All signal actions. */
export const SIGNAL_ACTIONS: readonly SignalAction[] = ['enter_long', 'exit_long', 'enter_short', 'exit_short'];

/**
 * Size of an order. For an entry or an add: a fraction of current equity in (0, 1] (`{ fraction: 0.5 }` = half the
 * equity), or a fixed notional in quote currency (`{ quote: 1000 }` = 1,000 USDT for `BTC/USDT`). For an exit: a
 * fraction of the position's quantity (`{ fraction: 0.25 }` sells a quarter of a long), or a notional in quote
 * currency at the deciding candle's close (`{ quote: 500 }`).
 */
export type PositionSize = { readonly fraction: number } | { readonly quote: number };

/**
 * A trading signal returned by {@link "strategy/base-strategy"!BaseStrategy.onData | BaseStrategy.onData}. It is
 * decided on the close of the current candle and filled by the broker at the open of the next one.
 *
 * - `size`: for entries and adds, default the broker's configured stake; for exits, the part of the position to
 *   close (a partial exit), default all of it.
 * - `add`: for entries: `true` scales into an open position of the same side (a DCA buy) instead of being ignored.
 * - `stopLoss`, `takeProfit`: for entries and adds, distances from the position's average entry price as fractions
 *   (`stopLoss: 0.02` = 2% adverse move; freqtrade's `stoploss = -0.02`); an add that carries them resets the
 *   position's levels from the new average, an add without them keeps the levels.
 * - `tag`: free text kept in the journal and trades (freqtrade's `enter_tag` / `exit_tag`).
 */
export interface Signal {
  readonly action: SignalAction;
  readonly size?: PositionSize;
  readonly add?: boolean;
  readonly stopLoss?: number;
  readonly takeProfit?: number;
  readonly tag?: string;
}

const fraction01 = z.number().gt(0).lt(1);

/** Zod schema of a {@link Signal}; unknown keys are rejected so that a typo is an error, not a silent no-op. */
export const signalSchema = z
  .object({
    action: z.enum(['enter_long', 'exit_long', 'enter_short', 'exit_short']),
    size: z
      .union([z.strictObject({ fraction: z.number().gt(0).lte(1) }), z.strictObject({ quote: z.number().positive() })])
      .optional(),
    add: z.boolean().optional(),
    stopLoss: fraction01.optional(),
    takeProfit: z.number().gt(0).optional(),
    tag: z.string().max(200).optional(),
  })
  .strict();

/**
 * Checks a value returned by `onData`: `undefined`/`null` (no signal) or a {@link Signal}.
 *
 * @returns the signal, or `null` for no signal.
 * @throws Error with a one-line description of every problem found (the caller adds file and candle).
 */
export function parseSignal(value: unknown): Signal | null {
  if (value === undefined || value === null) return null;
  const result = signalSchema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || 'signal'}: ${i.message}`).join('; ');
    throw new Error(`malformed signal ${JSON.stringify(value)}: ${problems}`);
  }
  return result.data as Signal;
}
