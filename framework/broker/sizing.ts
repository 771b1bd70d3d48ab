/**
 * Order quantities of the paper broker: pure functions of the account, the deciding candle's close and the lot size.
 * Quantities in base currency, money in quote currency.
 *
 * @module
 */
import type { PositionSize } from '../strategy/signal';

/** Relative tolerance for float noise in quantity arithmetic (`0.3 / 0.1` is `2.9999999999999996`). */
const EPSILON = 1e-9;

/**
 * `quantity` rounded down to a whole number of `step`s (a lot size); unchanged when `step` is undefined.
 * Float noise is tolerated (`0.3` with step `0.1` stays `0.3`), and the result is normalised to 15 significant digits
 * so that it prints as the exchange would (`0.3`, not `0.30000000000000004`).
 */
export function roundDownToStep(quantity: number, step: number | undefined): number {
  if (step === undefined || !(quantity > 0)) return Math.max(0, quantity);
  const steps = Math.floor(quantity / step + EPSILON);
  return Number((steps * step).toPrecision(15));
}

/**
 * Quantity of an entry or add decided at `close`: the amount (`fraction` of `equity`, or `quote` capped at `equity`;
 * further capped at `cap` when given, e.g. the cash a long add may spend) covers notional and fee,
 * `quantity = amount / (close × (1 + feeRate))`, rounded down to `step`. 0 when nothing can be bought.
 */
export function entryQuantity(size: PositionSize, equity: number, close: number, feeRate: number, step: number | undefined, cap = Infinity): number {
  if (!(equity > 0) || !(close > 0)) return 0;
  const amount = Math.min('fraction' in size ? size.fraction * equity : Math.min(size.quote, equity), cap);
  return amount > 0 ? roundDownToStep(amount / (close * (1 + feeRate)), step) : 0;
}

/**
 * Quantity of an exit of a position holding `held` (base currency): all of it without `size`; with `size`, a
 * `fraction` of `held` or a `quote` notional at `close`, rounded down to `step`. An exit that would leave less than
 * one step (any positive remainder below float noise without a step) exits all.
 *
 * @returns the quantity and whether it closes the position; quantity 0 when the size rounds to nothing.
 */
export function exitQuantity(
  size: PositionSize | undefined,
  held: number,
  close: number,
  step: number | undefined,
): { readonly quantity: number; readonly all: boolean } {
  if (size === undefined) return { quantity: held, all: true };
  const wanted = roundDownToStep('fraction' in size ? size.fraction * held : size.quote / close, step);
  if (!(wanted > 0)) return { quantity: 0, all: false };
  const left = held - wanted;
  const dust = step === undefined ? held * EPSILON : step * (1 - EPSILON);
  return left < dust ? { quantity: held, all: true } : { quantity: wanted, all: false };
}

/**
 * The part of a `wanted` buy at `price` (fee at `feeRate` on top) that `cash` pays for, rounded down to `step`:
 * `wanted` itself when affordable (within float noise), else `cash / (price × (1 + feeRate))` rounded down.
 */
export function affordableQuantity(wanted: number, cash: number, price: number, feeRate: number, step: number | undefined): number {
  const affordable = cash / (price * (1 + feeRate));
  if (wanted <= affordable * (1 + EPSILON)) return wanted;
  return roundDownToStep(affordable, step);
}

/** `quantity` after removing `sold`, kept on the `step` grid (float noise removed); 0 when nothing real is left. */
export function remainingQuantity(quantity: number, sold: number, step: number | undefined): number {
  const left = quantity - sold;
  if (step !== undefined) return Math.max(0, Number((Math.round(left / step) * step).toPrecision(15)));
  return left > quantity * EPSILON ? left : 0;
}
