/**
 * Capital allocation on a shared exchange account, the pure core: what a strategy has left of the quote currency it
 * was allocated, from the exchange's own answers to its orders, and whether a buy fits in it. No I/O: the trading
 * node's connector (`node/trade-commands.ts`) asks it before each order goes out.
 *
 * The model is freqtrade's per-bot wallet (`available_capital`): a strategy starts with its allocation in the quote
 * currency; each buy the exchange filled for it spends `filled × average` plus a fee charged in the quote currency,
 * each sell returns `filled × average` less such a fee. Realised profit therefore stays the strategy's to trade, a
 * loss shrinks what it may buy. A buy whose estimated cost — its amount at a reference price (the last close the
 * connector published for the symbol), plus the taker fee — exceeds what is left is refused before it is sent; a
 * sell is never refused (it only gives capital back).
 *
 * @module
 */
import type { OrderRecord } from './orders-journal';

/**
 * The quote currency a strategy has left of `allocation`: `allocation` − Σ buys (filled × average) + Σ sells
 * (filled × average) − fees charged in `quote`, over the exchange orders in `records` (`orders.jsonl` lines; each
 * exchange order counted once, by its client order id, from its last answered line). A `reconcile` line (coins sold
 * outside the run) returns its proceeds like a sell. Unanswered or failed lines count nothing.
 */
export function quoteAvailable(allocation: number, records: readonly OrderRecord[], quote: string): number {
  const last = new Map<string, OrderRecord>();
  for (const record of records) {
    if (record.filled !== null && record.average !== null) last.set(record.clientOrderId, record);
  }
  let available = allocation;
  for (const r of last.values()) {
    const notional = r.filled! * r.average!;
    available += r.side === 'buy' ? -notional : notional;
    if (r.fee !== null && r.fee.currency === quote) available -= r.fee.cost;
  }
  return available;
}

/** What {@link allocationRefusal} checks: one exchange order about to be sent, and the strategy's wallet. */
export interface AllocationCheck {
  readonly strategy: string;
  readonly side: 'buy' | 'sell';
  /** Base quantity of the order (after the market's precision). */
  readonly amount: number;
  /** Reference price, quote per base; NaN or undefined when the connector has none yet. */
  readonly price: number | undefined;
  /** Taker fee as a fraction of the notional (0.001 = 0.1%). */
  readonly feeRate: number;
  /** The strategy's allocation and what it has left of it (see {@link quoteAvailable}), quote currency. */
  readonly allocation: number;
  readonly available: number;
  readonly base: string;
  readonly quote: string;
}

/**
 * Why the order must not be sent, or null when it fits: a buy costing (`amount × price × (1 + feeRate)`) more than
 * `available`, or a buy with no reference price (its cost cannot be bounded: fail closed).
 */
export function allocationRefusal(check: AllocationCheck): string | null {
  if (check.side === 'sell') return null;
  const { strategy, amount, price, base, quote } = check;
  if (price === undefined || !Number.isFinite(price) || price <= 0) {
    return `allocation: ${strategy}: no price of ${base}/${quote} known yet to bound the cost of buying ${amount} ${base}; not sent`;
  }
  const cost = amount * price * (1 + check.feeRate);
  if (cost <= check.available + 1e-9) return null;
  return `allocation: ${strategy}: buying ${amount} ${base} costs about ${cost.toFixed(2)} ${quote}, more than the ${Math.max(0, check.available).toFixed(2)} ${quote} left of its allocation of ${check.allocation} ${quote}; not sent`;
}
