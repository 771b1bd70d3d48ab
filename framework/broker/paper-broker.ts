import type { Candle } from '../core/candle';
import { FrameworkError, InvalidCandleError } from '../core/errors';
import { isoUtc } from '../core/time';
import type { Signal } from '../strategy/signal';
import { brokerConfig, type BrokerConfig } from './broker-config';
import { EquityCurveBuffer, type EquityCurve } from './equity-curve';
import type { ExitReason, Fill, IgnoredSignal, Position, PositionSide, SignalDecision, Trade } from './types';

/** A signal accepted on one candle's close, waiting for the next candle's open. */
interface PendingOrder {
  readonly signal: Signal;
  readonly decidedAt: number;
}

/**
 * A simulated exchange account trading one symbol, one position at a time (long or short), driven candle by candle.
 * The same class serves backtests and live runs, so both fill orders by the same rules.
 *
 * Per closed candle the engine calls {@link onCandle} and then, if the strategy returned a signal on that candle's
 * close, {@link submit}. Execution model:
 *
 * 1. **Next-open fills.** A signal accepted by {@link submit} fills at the *next* candle's open (no look-ahead).
 *    Entry while flat opens a position; entry of the opposite side closes the open position (`reversal`) and opens the
 *    new one at the same open; entry of the side already held, an exit without a matching position, or a second
 *    signal while one is pending are ignored and recorded in {@link ignoredSignals} with the reason.
 * 2. **Sizing.** The signal's `size`, else the configured `stake`: `{ fraction }` of current equity, or `{ quote }`
 *    notional (reduced to the equity when larger: no leverage). The committed amount covers notional plus entry fee:
 *    `quantity = amount / (price × (1 + feeRate))`. An entry with equity ≤ 0 is ignored.
 * 3. **Costs.** Every fill pays `feeRate × price × quantity` in quote currency. Market fills (signal entries and
 *    exits, reversals, stop-losses, the end-of-data close) suffer adverse slippage of `slippageBps / 10 000` of the price
 *    (buys higher, sells lower). Take-profit fills are limit fills and get no slippage.
 * 4. **Stop-loss / take-profit.** The entry signal's `stopLoss` / `takeProfit` fractions set absolute prices from the
 *    entry fill price: long stop `entry × (1 − stopLoss)`, long TP `entry × (1 + takeProfit)`; short stop
 *    `entry × (1 + stopLoss)`, short TP `entry × (1 − takeProfit)`. They are checked against each candle's high/low
 *    from the entry candle on (the entry at the open precedes the candle's range). A candle that opens beyond a
 *    trigger fills it at the open (a gap through: the order of events is known). Otherwise, when only one trigger lies
 *    in the candle's range it fills at its trigger price; when both do, the order within the candle is unknown and
 *    the stop is assumed first (the conservative choice).
 * 5. **Marking.** After fills, equity is marked at the candle's close: `equity = cash + positionValue`, where
 *    `positionValue` is `+quantity × close` for a long and `−quantity × close` for a short (a short's sale proceeds
 *    are in cash). One row per candle goes to {@link equityCurve}.
 *
 * Shorts are not margined or liquidated: equity may go below zero on a large adverse move; no new entries follow then.
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} from the constructor when the configuration is invalid
 *   (see {@link brokerConfig}).
 */
export class PaperBroker {
  /** The validated configuration. */
  readonly config: BrokerConfig;

  readonly #slippage: number;
  #cash: number;
  #position: Position | null = null;
  #pending: PendingOrder | null = null;
  #lastTime = Number.NEGATIVE_INFINITY;
  #exposedCandles = 0;
  readonly #curve = new EquityCurveBuffer();
  readonly #trades: Trade[] = [];
  readonly #fills: Fill[] = [];
  readonly #ignored: IgnoredSignal[] = [];

  /**
   * @param config - account settings; see {@link BrokerConfig} and {@link brokerConfig} for defaults.
   * @throws {@link "core/errors"!FrameworkError | FrameworkError} naming the bad field when the configuration is
   *   invalid.
   */
  constructor(config: BrokerConfig) {
    this.config = brokerConfig(config);
    this.#slippage = this.config.slippageBps / 10_000;
    this.#cash = this.config.initialCash;
  }

  /** Equity in quote currency as marked at the last candle's close (the initial cash before any candle). */
  get equity(): number {
    return this.#curve.length === 0 ? this.config.initialCash : this.#curve.lastEquity();
  }

  /** Cash in quote currency (includes a short's sale proceeds). */
  get cash(): number {
    return this.#cash;
  }

  /** The open position, or `null` when flat (a new record on every change; never mutated). */
  get position(): Position | null {
    return this.#position;
  }

  /** Closed trades, oldest first. */
  get trades(): readonly Trade[] {
    return this.#trades;
  }

  /** All fills, oldest first. */
  get fills(): readonly Fill[] {
    return this.#fills;
  }

  /** Signals that were not acted on, with the reason, oldest first. */
  get ignoredSignals(): readonly IgnoredSignal[] {
    return this.#ignored;
  }

  /** The equity curve so far, one row per candle (views; copy them to keep them across further candles). */
  get equityCurve(): EquityCurve {
    return this.#curve.view();
  }

  /**
   * A capacity hint: `candles` more candles are coming (a backtest knows how many), so the equity curve is allocated
   * once for them rather than grown as they come. Changes nothing else.
   */
  reserve(candles: number): void {
    this.#curve.reserve(this.#curve.length + candles);
  }

  /** Number of candles during which a position was open after the candle's open fills (for the exposure metric). */
  get exposedCandles(): number {
    return this.#exposedCandles;
  }

  /**
   * Processes one closed candle: fills the pending order at its open, then checks stop-loss/take-profit against its
   * high/low, then marks equity at its close.
   *
   * @throws {@link "core/errors"!InvalidCandleError | InvalidCandleError} when the candle's open time is not after the
   *   previous candle's.
   */
  onCandle(candle: Candle): void {
    if (!(candle.openTime > this.#lastTime)) {
      throw new InvalidCandleError(
        `broker got candle ${shownTime(candle.openTime)} after ${shownTime(this.#lastTime)}: candles must come in increasing open-time order`,
      );
    }
    this.#lastTime = candle.openTime;
    const pending = this.#pending;
    if (pending !== null) {
      this.#pending = null;
      this.#execute(pending, candle);
    }
    if (this.#position !== null) {
      this.#exposedCandles += 1;
      this.#checkTriggers(this.#position, candle);
    }
    this.#curve.push(candle.openTime, this.#cash, this.#positionValue(candle.close));
  }

  /**
   * Submits a signal decided on the close of `candle` (the last candle given to {@link onCandle}); an accepted signal
   * fills at the next candle's open.
   *
   * @returns whether it became an order, and if not, why.
   * @throws {@link "core/errors"!FrameworkError | FrameworkError} when `candle` is not the last candle the broker
   *   processed.
   */
  submit(signal: Signal, candle: Candle): SignalDecision {
    this.#requireLast(candle, 'submit');
    const reason = this.#rejection(signal);
    if (reason !== null) {
      this.#ignored.push({ time: candle.openTime, signal, reason });
      return { acted: false, reason };
    }
    this.#pending = { signal, decidedAt: candle.openTime };
    return { acted: true };
  }

  /**
   * Ends the run: drops a pending order (recorded as ignored: there is no next open to fill it at) and closes the open
   * position at `candle.close` as a market order (fee and slippage apply); the equity curve's last row is re-marked.
   *
   * @param candle - the last candle given to {@link onCandle}.
   * @param reason - exit reason recorded on the trade.
   * @throws {@link "core/errors"!FrameworkError | FrameworkError} when `candle` is not the last candle the broker
   *   processed.
   */
  closeAll(candle: Candle, reason: Extract<ExitReason, 'end_of_data'> = 'end_of_data'): void {
    this.#requireLast(candle, 'closeAll');
    if (this.#pending !== null) {
      const { signal, decidedAt } = this.#pending;
      this.#ignored.push({ time: decidedAt, signal, reason: 'end of data: no next candle to fill it at' });
      this.#pending = null;
    }
    if (this.#position !== null) {
      this.#close(this.#position, candle.openTime, candle.close, true, reason, undefined);
      this.#curve.replaceLast(candle.openTime, this.#cash, 0);
    }
  }

  #requireLast(candle: Candle, method: string): void {
    if (candle.openTime !== this.#lastTime) {
      const last = this.#lastTime === Number.NEGATIVE_INFINITY ? 'none' : shownTime(this.#lastTime);
      throw new FrameworkError(
        `broker ${method} for candle ${shownTime(candle.openTime)}, but the last candle it processed is ${last}`,
      );
    }
  }

  #rejection(signal: Signal): string | null {
    if (this.#pending !== null) return `an order (${this.#pending.signal.action}) is already pending for the next open`;
    const held = this.#position?.side ?? null;
    switch (signal.action) {
      case 'enter_long':
        return held === 'long' ? 'already long' : null;
      case 'enter_short':
        return held === 'short' ? 'already short' : null;
      case 'exit_long':
        return held === 'long' ? null : held === null ? 'no position to exit' : 'position is short, not long';
      case 'exit_short':
        return held === 'short' ? null : held === null ? 'no position to exit' : 'position is long, not short';
    }
  }

  #execute({ signal, decidedAt }: PendingOrder, candle: Candle): void {
    const position = this.#position;
    const time = candle.openTime;
    if (signal.action === 'exit_long' || signal.action === 'exit_short') {
      if (position !== null) this.#close(position, time, candle.open, true, 'signal', signal.tag);
      return;
    }
    const side: PositionSide = signal.action === 'enter_long' ? 'long' : 'short';
    if (position !== null) this.#close(position, time, candle.open, true, 'reversal', signal.tag);
    this.#open(side, signal, decidedAt, candle);
  }

  #open(side: PositionSide, signal: Signal, decidedAt: number, candle: Candle): void {
    const { feeRate } = this.config;
    const equity = this.#cash; // flat here: equity is all cash
    const size = signal.size ?? this.config.stake;
    const amount = 'fraction' in size ? size.fraction * equity : Math.min(size.quote, equity);
    if (!(amount > 0)) {
      this.#ignored.push({ time: decidedAt, signal, reason: `equity ${equity} ≤ 0 at the fill: cannot size the entry` });
      return;
    }
    const price = side === 'long' ? candle.open * (1 + this.#slippage) : candle.open * (1 - this.#slippage);
    const quantity = amount / (price * (1 + feeRate));
    const fee = feeRate * price * quantity;
    this.#cash += side === 'long' ? -(price * quantity + fee) : price * quantity - fee;
    const sign = side === 'long' ? 1 : -1;
    this.#position = {
      side,
      quantity,
      entryPrice: price,
      entryTime: candle.openTime,
      entryFee: fee,
      ...(signal.stopLoss !== undefined && { stopPrice: price * (1 - sign * signal.stopLoss) }),
      ...(signal.takeProfit !== undefined && { takeProfitPrice: price * (1 + sign * signal.takeProfit) }),
      ...(signal.tag !== undefined && { tag: signal.tag }),
    };
    this.#fills.push({ time: candle.openTime, side: side === 'long' ? 'buy' : 'sell', price, quantity, fee, reason: 'entry' });
  }

  #checkTriggers(position: Position, candle: Candle): void {
    const { stopPrice: stop, takeProfitPrice: target } = position;
    if (stop === undefined && target === undefined) return;
    const long = position.side === 'long';
    const time = candle.openTime;
    if (stop !== undefined && atOrWorse(long, candle.open, stop)) {
      this.#close(position, time, candle.open, true, 'stop_loss', undefined);
    } else if (target !== undefined && atOrBetter(long, candle.open, target)) {
      this.#close(position, time, candle.open, false, 'take_profit', undefined);
    } else if (stop !== undefined && atOrWorse(long, long ? candle.low : candle.high, stop)) {
      this.#close(position, time, stop, true, 'stop_loss', undefined);
    } else if (target !== undefined && atOrBetter(long, long ? candle.high : candle.low, target)) {
      this.#close(position, time, target, false, 'take_profit', undefined);
    }
  }

  #close(
    position: Position,
    time: number,
    rawPrice: number,
    market: boolean,
    reason: ExitReason,
    exitTag: string | undefined,
  ): void {
    const { feeRate } = this.config;
    const long = position.side === 'long';
    const slip = market ? this.#slippage : 0;
    const price = long ? rawPrice * (1 - slip) : rawPrice * (1 + slip);
    const { quantity, entryPrice, entryFee } = position;
    const fee = feeRate * price * quantity;
    this.#cash += long ? price * quantity - fee : -(price * quantity + fee);
    const fees = entryFee + fee;
    const pnl = (long ? quantity * (price - entryPrice) : quantity * (entryPrice - price)) - fees;
    this.#fills.push({ time, side: long ? 'sell' : 'buy', price, quantity, fee, reason });
    this.#trades.push({
      side: position.side,
      entryTime: position.entryTime,
      entryPrice,
      exitTime: time,
      exitPrice: price,
      quantity,
      fees,
      pnl,
      returnPct: pnl / (quantity * entryPrice + entryFee),
      exitReason: reason,
      ...(position.tag !== undefined && { entryTag: position.tag }),
      ...(exitTag !== undefined && { exitTag }),
    });
    this.#position = null;
  }

  #positionValue(close: number): number {
    const p = this.#position;
    if (p === null) return 0;
    return p.side === 'long' ? p.quantity * close : -p.quantity * close;
  }
}

/** Whether `price` is at `level` or worse for the position: at or below it for a long, at or above it for a short. */
function atOrWorse(long: boolean, price: number, level: number): boolean {
  return long ? price <= level : price >= level;
}

/** Whether `price` is at `level` or better for the position: at or above it for a long, at or below it for a short. */
function atOrBetter(long: boolean, price: number, level: number): boolean {
  return long ? price >= level : price <= level;
}

/** A candle open time for a message: ISO 8601 when valid, else the raw value (`NaN`, `-Infinity`). */
function shownTime(ms: number): string {
  return Number.isFinite(ms) ? isoUtc(ms) : String(ms);
}
