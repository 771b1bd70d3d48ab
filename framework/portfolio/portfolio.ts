/**
 * The node's portfolio: what all its strategies hold and are worth together, aggregated from the snapshots each
 * worker publishes after every candle it acts on. Pure state: no I/O, no clock (times come with the snapshots).
 *
 * - Equity, cash, realised and unrealised PnL are the sums of every strategy's latest snapshot.
 * - Exposure is per asset (the base currency of each symbol: `BTC` for `BTC/USDT`): the sum of the strategies' own
 *   signed quantities, valued at the latest mark. Two strategies long 0.1 BTC each are 0.2 BTC of exposure, not the
 *   account's BTC balance counted once per strategy: each strategy owns its position explicitly.
 * - The drawdown is that of the summed equity, re-evaluated at every snapshot: a fall below its running peak, as a
 *   positive fraction of the peak.
 *
 * @module
 */

/** One open position of a strategy: `quantity` signed in base currency (`−` short), `markPrice` in quote currency. */
export interface PositionMark {
  readonly symbol: string;
  readonly quantity: number;
  readonly markPrice: number;
}

/**
 * A strategy's state after a candle, as its worker publishes it. Money in quote currency (one quote currency per
 * node), `time` the UTC epoch ms open time of the candle it was marked at.
 */
export interface StrategySnapshot {
  readonly strategyId: string;
  readonly time: number;
  readonly equity: number;
  readonly cash: number;
  readonly realisedPnl: number;
  readonly unrealisedPnl: number;
  readonly positions: readonly PositionMark[];
  /**
   * True for the state after the run's stop closed the position at the last candle's close (the report's close): a
   * later state of the same candle.
   */
  readonly closedAtStop?: boolean;
}

/** Exposure to one asset: signed base `quantity` and its `value` at the latest mark (quote currency). */
export interface AssetExposure {
  readonly quantity: number;
  readonly value: number;
}

/** One strategy's line of {@link PortfolioStatus}: its latest snapshot and the drawdown of its own equity. */
export interface StrategyStatus extends StrategySnapshot {
  readonly maxDrawdown: number;
}

/** The aggregate, as `npm run node -- status` shows it. */
export interface PortfolioStatus {
  readonly strategies: readonly StrategyStatus[];
  readonly total: {
    readonly equity: number;
    readonly cash: number;
    readonly realisedPnl: number;
    readonly unrealisedPnl: number;
    readonly exposure: Readonly<Record<string, AssetExposure>>;
    readonly maxDrawdown: number;
  };
}

/** Running peak and largest drawdown of an equity series. */
class Drawdown {
  #peak = Number.NEGATIVE_INFINITY;
  #max = 0;

  add(equity: number): void {
    if (equity > this.#peak) this.#peak = equity;
    else if (this.#peak > 0) this.#max = Math.max(this.#max, 1 - equity / this.#peak);
  }

  get max(): number {
    return this.#max;
  }
}

/** See the module description. */
export class Portfolio {
  readonly #latest = new Map<string, StrategySnapshot>();
  readonly #drawdowns = new Map<string, Drawdown>();
  readonly #total = new Drawdown();

  /**
   * Takes a strategy's snapshot; one older than the latest held for that strategy (a redelivery), or of the same
   * candle, is ignored, except the state closed at the stop ({@link StrategySnapshot.closedAtStop}) after the candle's.
   *
   * @returns whether it was taken.
   */
  update(snapshot: StrategySnapshot): boolean {
    const previous = this.#latest.get(snapshot.strategyId);
    const later = previous === undefined || snapshot.time > previous.time || (snapshot.time === previous.time && snapshot.closedAtStop === true && previous.closedAtStop !== true);
    if (!later) return false;
    this.#latest.set(snapshot.strategyId, snapshot);
    const own = this.#drawdowns.get(snapshot.strategyId) ?? new Drawdown();
    own.add(snapshot.equity);
    this.#drawdowns.set(snapshot.strategyId, own);
    this.#total.add(this.#sum((s) => s.equity));
    return true;
  }

  /** The aggregate now. */
  status(): PortfolioStatus {
    const exposure: Record<string, AssetExposure> = {};
    for (const s of this.#latest.values()) {
      for (const p of s.positions) {
        const asset = p.symbol.split('/')[0]!;
        const held = exposure[asset] ?? { quantity: 0, value: 0 };
        exposure[asset] = { quantity: held.quantity + p.quantity, value: held.value + p.quantity * p.markPrice };
      }
    }
    return {
      strategies: [...this.#latest.values()].map((s) => ({ ...s, maxDrawdown: this.#drawdowns.get(s.strategyId)!.max })),
      total: {
        equity: this.#sum((s) => s.equity),
        cash: this.#sum((s) => s.cash),
        realisedPnl: this.#sum((s) => s.realisedPnl),
        unrealisedPnl: this.#sum((s) => s.unrealisedPnl),
        exposure,
        maxDrawdown: this.#total.max,
      },
    };
  }

  #sum(field: (s: StrategySnapshot) => number): number {
    let total = 0;
    for (const s of this.#latest.values()) total += field(s);
    return total;
  }
}
