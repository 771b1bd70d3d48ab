import { z } from '../core/zod';

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
  const plain = plainSignal(value);
  if (plain !== null) return plain;
  const result = signalSchema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || 'signal'}: ${i.message}`).join('; ');
    throw new Error(`malformed signal ${JSON.stringify(value)}: ${problems}`);
  }
  return result.data as Signal;
}

/** The keys of a {@link Signal}, in {@link signalSchema}'s order (the order of the keys of what it returns). */
const SIGNAL_KEYS = ['action', 'size', 'add', 'stopLoss', 'takeProfit', 'tag'] as const;

/**
 * What {@link signalSchema} returns for `value` when `value` is a plain object (an object literal) that is plainly a
 * valid signal, made without zod: a new object with the same keys in the schema's order (a key given as undefined
 * kept), `size` copied. Null for anything else, which zod then parses (and explains when invalid). A backtest of a
 * million candles parses tens of thousands of signals, and zod spent microseconds on each (a test checks that both
 * give the same result).
 */
function plainSignal(value: unknown): Signal | null {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return null;
  const given = value as Record<string, unknown>;
  for (const key in given) if (!(SIGNAL_KEYS as readonly string[]).includes(key)) return null;
  const { action, size, add, stopLoss, takeProfit, tag } = given;
  if (action !== 'enter_long' && action !== 'exit_long' && action !== 'enter_short' && action !== 'exit_short') return null;
  const copy = size === undefined ? undefined : plainSize(size);
  if (copy === null) return null;
  if (!(add === undefined || typeof add === 'boolean')) return null;
  if (!(stopLoss === undefined || (typeof stopLoss === 'number' && stopLoss > 0 && stopLoss < 1))) return null;
  if (!(takeProfit === undefined || (typeof takeProfit === 'number' && takeProfit > 0 && takeProfit < Infinity))) return null;
  if (!(tag === undefined || (typeof tag === 'string' && tag.length <= 200))) return null;
  const out: Record<string, unknown> = { action };
  if ('size' in given) out['size'] = copy;
  if ('add' in given) out['add'] = add;
  if ('stopLoss' in given) out['stopLoss'] = stopLoss;
  if ('takeProfit' in given) out['takeProfit'] = takeProfit;
  if ('tag' in given) out['tag'] = tag;
  return out as unknown as Signal;
}

/** A copy of a plain `{ fraction }` in (0, 1] or `{ quote }` > 0 (finite), else null. */
function plainSize(size: unknown): PositionSize | null {
  if (typeof size !== 'object' || size === null || Object.getPrototypeOf(size) !== Object.prototype) return null;
  const keys = Object.keys(size);
  if (keys.length !== 1) return null;
  const { fraction, quote } = size as Record<string, unknown>;
  if (keys[0] === 'fraction' && typeof fraction === 'number' && fraction > 0 && fraction <= 1) return { fraction };
  if (keys[0] === 'quote' && typeof quote === 'number' && quote > 0 && quote < Infinity) return { quote };
  return null;
}
