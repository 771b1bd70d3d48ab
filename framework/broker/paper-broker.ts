import type { Candle } from '../core/candle';
import { FrameworkError, InvalidCandleError } from '../core/errors';
import { isoUtc } from '../core/time';
import type { AccountView, OpenOrderView, PositionView } from '../strategy/account';
import type { Signal } from '../strategy/signal';
import { brokerConfig, DEFAULT_STRATEGY_KEY, type BrokerConfig } from './broker-config';
import type { BrokerState } from './broker-state';
import { EquityCurveBuffer, type EquityCurve } from './equity-curve';
import { clientOrderId as orderId, type Order, type OrderListener, type OrderReason, type OrderSide } from './orders';
import { addEntry, addExit, closeRoundTrip, openRoundTrip, tripPnl, tripReturn, type OpenRoundTrip } from './round-trip';
import { addToTally, emptyTally, type TradeTally } from './trade-tally';
import { affordableQuantity, entryQuantity, exitQuantity, remainingQuantity } from './sizing';
import type { ExitReason, Fill, IgnoredSignal, Position, PositionSide, SignalDecision, Trade } from './types';

/**
 * An order accepted on one candle's close, waiting for the next candle's open, with the signal that decided it (its
 * `stopLoss` / `takeProfit` apply when an entry or add fills).
 */
export interface PendingOrder {
  readonly order: Order;
  readonly signal: Signal;
}

/**
 * A simulated exchange account trading one symbol, one position at a time (long or short) that can be scaled in and
 * out, driven candle by candle. The same class serves backtests, paper live and real live runs, so all fill orders
 * by the same rules.
 *
 * Per closed candle the engine calls {@link onCandle} and then, if the strategy returned a signal on that candle's
 * close, {@link submit}. Execution model:
 *
 * 1. **Orders sized when decided.** {@link submit} turns an accepted signal into one or two {@link Order}s at once
 *    (status `accepted`, a deterministic client order id from `strategyKey`, the candle and a per-candle counter),
 *    with the quantity fixed from the deciding candle's close, so that a real order mirroring it carries the same
 *    quantity. They fill at the *next* candle's open (no look-ahead).
 *    - entry while flat: `entry`; entry of the other side: `reversal` (closes all) then `entry`;
 *    - entry of the side held: ignored (`already long`) unless the signal has `add: true`: then an `add` (scale in);
 *    - exit without `size`: `exit` of the whole position; with `size`: `partial_exit` (rounded down; one that would
 *      leave less than one `amountStep` exits all); an exit without a matching position is ignored;
 *    - a signal while orders are pending is ignored.
 *    Every ignored signal is recorded in {@link ignoredSignals} with the reason.
 * 2. **Sizing.** Entries and adds: the signal's `size`, else the configured `stake`: `{ fraction }` of equity marked
 *    at the deciding close, or `{ quote }` notional (capped at equity: no leverage; a long add also at cash). The
 *    amount covers notional plus fee: `quantity = amount / (close × (1 + feeRate))`, rounded down to `amountStep`.
 *    Exits: `{ fraction }` of the position's quantity or `{ quote }` notional at the deciding close.
 * 3. **Fills.** Market orders fill at the next open with adverse slippage of `slippageBps / 10 000` (buys higher,
 *    sells lower) and pay `feeRate × price × quantity`. A buy that opens or adds to a long and that cash cannot pay for
 *    at the fill (the open gapped above the deciding close) fills what cash pays for, rounded down to `amountStep`:
 *    the order goes `partially_filled`, then `cancelled` for the rest (NautilusTrader's and the exchanges' model of an
 *    order that is not completed); when cash pays for nothing it is `rejected`. Shorts are not margined.
 * 4. **The position** keeps its quantity and quantity-weighted average entry price (fees separate: paid out of cash).
 * 5. **Stop-loss / take-profit belong to the position.** An entry's `stopLoss` / `takeProfit` fractions set absolute
 *    prices from the average entry price (long stop `avg × (1 − stopLoss)`, TP `avg × (1 + takeProfit)`; mirrored for
 *    a short); an add that carries them resets them from the new average, an add without them keeps them; a partial
 *    exit keeps them. They are checked against each candle's high/low after the open's fills. A candle that opens
 *    beyond a trigger fills it at the open (a gap through); otherwise a trigger in the candle's range fills at its
 *    price; when both are, the stop is assumed first (the conservative choice). A trigger creates a `stop_loss`
 *    (market, slipped) or `take_profit` (limit, not slipped) order for the whole position, filled at once.
 * 6. **Trades** are round trips, flat to flat (see {@link Trade}). A sale found on the exchange by reconciliation
 *    ({@link closeOnExchange}) closes the position at the exchange's price on the next candle.
 * 7. **Marking.** After fills, equity is marked at the candle's close: `equity = cash + positionValue`, where
 *    `positionValue` is `+quantity × close` for a long and `−quantity × close` for a short (a short's sale proceeds
 *    are in cash). One row per candle goes to {@link equityCurve}.
 * 8. **Order events.** Every order created or changed is told, synchronously, to the listeners added with
 *    {@link addOrderListener}, with the position's target quantity (see {@link "broker/orders"!OrderEvent | OrderEvent}).
 *
 * Shorts are not margined or liquidated: equity may go below zero on a large adverse move; no new entries follow then.
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} from the constructor when the configuration is invalid
 *   (see {@link brokerConfig}).
 */
export class PaperBroker {
  /** The validated configuration. */
  readonly config: BrokerConfig;
  /** The read-only account view handed to the strategy's `onData` (getters over this broker's state). */
  readonly account: AccountView;

  readonly #slippage: number;
  readonly #strategyKey: string;
  // Numbers from the start (set in the constructor): a field declared without a value starts undefined, and V8 then
  // boxes every number later stored in it (a new heap number per candle for the equity).
  #cash = Number.NaN;
  #equity = Number.NaN;
  #lastClose = Number.NaN;
  #position: Position | null = null;
  #trip: OpenRoundTrip | null = null;
  #pending: PendingOrder[] = [];
  /** The candle of the last order created and how many were created on it (changed in place: one per order). */
  #counter = { decidedAt: Number.NaN, next: 0 };
  #lastTime = Number.NEGATIVE_INFINITY;
  #exposedCandles = 0;
  readonly #curve: EquityCurveBuffer;
  readonly #trades: Trade[] = [];
  readonly #fills: Fill[] = [];
  readonly #ignored: IgnoredSignal[] = [];
  readonly #listeners: OrderListener[] = [];
  /** The sale found on the exchange, applied at the next candle (see {@link closeOnExchange}). */
  #externalClose: { readonly quantity: number; readonly price: number } | null = null;
  readonly #keepFills: boolean;
  readonly #keepTrades: boolean;
  readonly #orderIds: boolean;
  /** Every closed trade's result, summed as they close (earlier trades of a restored broker included). */
  readonly #tally = emptyTally();

  /**
   * @param config - account settings; see {@link BrokerConfig} and {@link brokerConfig} for defaults.
   * @param options - `keepFills: false` keeps no {@link fills} (an optimisation trial, which scores trades and
   *   equity only: keeping 80,000 fill records of a million-candle replay costs more than making them).
   *   `keepTrades: false` keeps no {@link trades} either, only their {@link tradeTally} (what the metrics read:
   *   a trial needs no trade records, and a kept record per trade outlives every young-generation collection).
   *   `equityCurve`: the buffer to write the {@link equityCurve} into, emptied first, for a caller that reuses one
   *   run after run (an optimisation's trials: a fresh million-row curve per trial costs more to allocate than to
   *   write); it must not be given to another broker while this one's curve is still read.
   *   `orderIds: false` gives every order the client order id `''` instead of making one (an optimisation trial,
   *   whose orders no executor mirrors and no record keeps: making the id string cost more than the rest of the
   *   order, 83,000 of them over a million candles of MACD); fills, trades and equity are the same.
   * @throws {@link "core/errors"!FrameworkError | FrameworkError} naming the bad field when the configuration is
   *   invalid.
   */
  constructor(
    config: BrokerConfig,
    options: {
      readonly keepFills?: boolean;
      readonly keepTrades?: boolean;
      readonly orderIds?: boolean;
      readonly equityCurve?: EquityCurveBuffer;
    } = {},
  ) {
    this.#keepFills = options.keepFills ?? true;
    this.#keepTrades = options.keepTrades ?? true;
    this.#orderIds = options.orderIds ?? true;
    this.#curve = options.equityCurve ?? new EquityCurveBuffer();
    this.#curve.clear();
    this.config = brokerConfig(config);
    this.#slippage = this.config.slippageBps / 10_000;
    this.#strategyKey = this.config.strategyKey ?? DEFAULT_STRATEGY_KEY;
    this.#cash = this.config.initialCash;
    this.#equity = this.config.initialCash;
    const broker = this; // the getters below read this broker's private state
    this.account = Object.freeze({
      get position(): PositionView | null {
        return broker.#positionView();
      },
      get openOrders(): readonly OpenOrderView[] {
        return Object.freeze(broker.#pending.map((p) => Object.freeze(p.order)));
      },
      get equity(): number {
        return broker.#equity;
      },
      get cash(): number {
        return broker.#cash;
      },
    });
  }

  /** Equity in quote currency as marked at the last candle's close (the initial cash before any candle). */
  get equity(): number {
    return this.#equity;
  }

  /** Cash in quote currency (includes a short's sale proceeds). */
  get cash(): number {
    return this.#cash;
  }

  /** The open position, or `null` when flat (a new record on every change; never mutated: frozen). */
  get position(): Position | null {
    return this.#position === null ? null : Object.freeze(this.#position);
  }

  /** Orders accepted and waiting for the next candle's open, oldest first (frozen). */
  get openOrders(): readonly Order[] {
    return this.#pending.map((p) => Object.freeze(p.order));
  }

  /** Closed trades (round trips), oldest first (none when constructed with `keepTrades: false`). */
  get trades(): readonly Trade[] {
    return this.#trades;
  }

  /** The totals of every closed trade (see {@link TradeTally}), kept whether or not the trades are. */
  get tradeTally(): TradeTally {
    return { ...this.#tally };
  }

  /** All fills, oldest first (none when constructed with `keepFills: false`). */
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
   * Tells `listener` every order event from now on: each order created (`accepted`) or changed (filled, partially
   * filled, cancelled, rejected), synchronously, in the order the broker makes them.
   */
  addOrderListener(listener: OrderListener): void {
    this.#listeners.push(listener);
  }

  /**
   * The broker's state after the last candle it processed, as plain JSON (see {@link BrokerState}): what
   * {@link PaperBroker.restore} needs to continue exactly where this broker is.
   *
   * @throws {@link "core/errors"!FrameworkError | FrameworkError} before the first candle (there is nothing to keep).
   */
  snapshot(): BrokerState {
    if (this.#lastTime === Number.NEGATIVE_INFINITY) throw new FrameworkError('broker snapshot before its first candle');
    return {
      version: 1,
      lastTime: this.#lastTime,
      lastClose: this.#lastClose,
      cash: this.#cash,
      equity: this.#equity,
      exposedCandles: this.#exposedCandles,
      position: this.#position === null ? null : { ...this.#position },
      roundTrip: this.#trip === null ? null : { ...this.#trip },
      pendingOrders: this.#pending.map(({ order, signal }) => ({
        order: { ...order, averagePrice: Number.isNaN(order.averagePrice) ? null : order.averagePrice },
        signal: { ...signal },
      })),
      counter: Number.isNaN(this.#counter.decidedAt) ? null : { ...this.#counter },
    };
  }

  /**
   * A broker that continues from `state` (a {@link snapshot}, possibly read back from a trading journal): the next
   * candle it takes must open after `state.lastTime`. Its equity curve starts empty; its fills and trades start with
   * `earlier` ones (those of the run before the state, e.g. read back from the same journal), so that its
   * {@link trades} are the whole run's.
   *
   * @param config - the configuration of the broker the state came from (fees, slippage, stake, lot size, strategy key).
   * @throws {@link "core/errors"!FrameworkError | FrameworkError} when the configuration is invalid.
   */
  static restore(
    config: BrokerConfig,
    state: BrokerState,
    earlier: { readonly fills?: readonly Fill[]; readonly trades?: readonly Trade[] } = {},
  ): PaperBroker {
    const broker = new PaperBroker(config);
    broker.#fills.push(...(earlier.fills ?? []));
    broker.#trades.push(...(earlier.trades ?? []));
    for (const t of earlier.trades ?? []) addToTally(broker.#tally, t.pnl, t.returnFraction);
    broker.#lastTime = state.lastTime;
    broker.#lastClose = state.lastClose;
    broker.#cash = state.cash;
    broker.#equity = state.equity;
    broker.#exposedCandles = state.exposedCandles;
    broker.#position = state.position === null ? null : Object.freeze({ ...state.position });
    broker.#trip = state.roundTrip === null ? null : { ...state.roundTrip };
    broker.#pending = state.pendingOrders.map(({ order, signal }) => ({
      order: Object.freeze({ ...order, averagePrice: order.averagePrice ?? Number.NaN }),
      signal,
    }));
    broker.#counter = state.counter === null ? { decidedAt: Number.NaN, next: 0 } : { ...state.counter };
    return broker;
  }

  /**
   * Processes one closed candle: fills the pending orders at its open, then checks stop-loss/take-profit against its
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
    while (this.#pending.length > 0) this.#fillAtOpen(this.#pending[0]!, candle);
    const external = this.#externalClose;
    this.#externalClose = null;
    if (external !== null) this.#closeExternally(external.quantity, external.price, candle.openTime);
    if (this.#position !== null) {
      this.#exposedCandles += 1;
      this.#checkTriggers(this.#position, candle);
    }
    const { close } = candle;
    const value = this.#positionValue(close);
    this.#lastClose = close;
    this.#equity = this.#cash + value;
    this.#curve.push(candle.openTime, this.#cash, value);
  }

  /**
   * Submits a signal decided on the close of `candle` (the last candle given to {@link onCandle}); an accepted signal
   * becomes orders at once (sized at `candle.close`) that fill at the next candle's open.
   *
   * @returns whether it became an order, and if not, why.
   * @throws {@link "core/errors"!FrameworkError | FrameworkError} when `candle` is not the last candle the broker
   *   processed.
   */
  submit(signal: Signal, candle: Candle): SignalDecision {
    this.#requireLast(candle, 'submit');
    const ignored = this.#plan(signal, candle);
    if (ignored !== null) {
      this.#ignored.push({ time: candle.openTime, signal, reason: ignored });
      return { acted: false, reason: ignored };
    }
    return ACTED;
  }

  /**
   * Ends the run: cancels the pending orders (their signal is recorded as ignored: there is no next open to fill them
   * at) and closes the open position at `candle.close` with an `end_of_data` market order (fee and slippage apply);
   * the equity curve's last row is re-marked.
   *
   * @param candle - the last candle given to {@link onCandle}.
   * @param reason - exit reason recorded on the trade.
   * @throws {@link "core/errors"!FrameworkError | FrameworkError} when `candle` is not the last candle the broker
   *   processed.
   */
  closeAll(candle: Candle, reason: Extract<ExitReason, 'end_of_data'> = 'end_of_data'): void {
    this.#requireLast(candle, 'closeAll');
    const first = this.#pending[0];
    if (first !== undefined) {
      this.#ignored.push({ time: first.order.decidedAt, signal: first.signal, reason: 'end of data: no next candle to fill it at' });
      while (this.#pending.length > 0) {
        const { order } = this.#pending.shift()!;
        this.#emit({ ...order, status: 'cancelled' });
      }
    }
    const position = this.#position;
    if (position !== null) {
      this.#trigger(position, reason, 'market', candle.openTime, candle.close);
      this.#mark(candle.close);
      this.#curve.replaceLast(candle.openTime, this.#cash, this.#positionValue(candle.close));
    }
  }

  /**
   * Records that `quantity` (base currency) of the position was sold (a long) or bought back (a short) outside the run,
   * at `price` (quote currency, the exchange's fill price): reconciliation's `closed_on_exchange` finding. It is applied
   * on the next candle given to {@link onCandle}, after the orders pending for that candle's open have filled (they were
   * already sent to the exchange when decided, so the exchange's shortfall is counted against the position they make)
   * and before its stop-loss / take-profit check: a `closed_on_exchange` market order of `quantity` (the exchange's
   * sale), of which `min(quantity, position)` fills at `price` without slippage, paying `feeRate` (status `filled`,
   * or `cancelled` with that `filledQuantity` when the position held less, or nothing: the rest was never on paper,
   * and an executor counts the whole sale off the exchange holding); a position closed that way ends its trade with
   * exit reason `closed_on_exchange`. A later call before that candle replaces the sale (reconciliation reports the
   * whole shortfall each time). Not part of {@link snapshot}: a run killed before the next candle finds the sale again
   * when it reconciles at its restart.
   *
   * @throws {@link "core/errors"!FrameworkError | FrameworkError} when `quantity` or `price` is not a positive number.
   */
  closeOnExchange(quantity: number, price: number): void {
    if (!(quantity > 0) || !(price > 0) || !Number.isFinite(quantity) || !Number.isFinite(price)) {
      throw new FrameworkError(`broker closeOnExchange: quantity ${quantity} and price ${price} must be positive numbers`);
    }
    this.#externalClose = { quantity, price };
  }

  #closeExternally(quantity: number, price: number, time: number): void {
    const position = this.#position;
    const closed = Math.min(quantity, position?.quantity ?? 0);
    const order = this.#newOrder('closed_on_exchange', position?.side === 'short' ? 'buy' : 'sell', 'market', quantity, time, undefined);
    this.#emit(order);
    if (closed > 0) this.#applyFill(order, null, time, price, closed);
    this.#emit({ ...order, status: closed === quantity ? 'filled' : 'cancelled', filledQuantity: closed, averagePrice: price });
  }

  #requireLast(candle: Candle, method: string): void {
    if (candle.openTime !== this.#lastTime) {
      const last = this.#lastTime === Number.NEGATIVE_INFINITY ? 'none' : shownTime(this.#lastTime);
      throw new FrameworkError(
        `broker ${method} for candle ${shownTime(candle.openTime)}, but the last candle it processed is ${last}`,
      );
    }
  }

  /**
   * Makes the orders a signal decided at `candle`'s close becomes (see {@link #accept}), or returns why it is ignored
   * (and makes none): null when it became orders. (Orders made here rather than planned as a list of tuples first: that
   * list cost three arrays and a spread per signal.)
   */
  #plan(signal: Signal, candle: Candle): string | null {
    const close = candle.close;
    const first = this.#pending[0];
    if (first !== undefined) return `an order (${first.signal.action}) is already pending for the next open`;
    const position = this.#position;
    const held = position?.side ?? null;
    const { feeRate, amountStep } = this.config;
    const size = signal.size ?? this.config.stake;
    switch (signal.action) {
      case 'enter_long':
      case 'enter_short': {
        const side: PositionSide = signal.action === 'enter_long' ? 'long' : 'short';
        const opening: OrderSide = side === 'long' ? 'buy' : 'sell';
        if (position !== null && held === side) {
          if (signal.add !== true) return `already ${side}`;
          const cap = side === 'long' ? this.#cash : Infinity;
          const quantity = entryQuantity(size, this.#equity, close, feeRate, amountStep, cap);
          if (!(quantity > 0)) return this.#unsizable('add', size, close);
          this.#accept('add', opening, quantity, signal, candle);
          return null;
        }
        const quantity = entryQuantity(size, this.#equity, close, feeRate, amountStep);
        if (position === null && !(quantity > 0)) return this.#unsizable('entry', size, close);
        if (position !== null) this.#accept('reversal', opening, position.quantity, signal, candle);
        if (quantity > 0) this.#accept('entry', opening, quantity, signal, candle);
        return null;
      }
      case 'exit_long':
      case 'exit_short': {
        const side: PositionSide = signal.action === 'exit_long' ? 'long' : 'short';
        if (position === null) return 'no position to exit';
        if (held !== side) return `position is ${held}, not ${side}`;
        const { quantity, all } = exitQuantity(signal.size, position.quantity, close, amountStep);
        if (!(quantity > 0)) return `exit size ${JSON.stringify(signal.size)} rounds to 0 of the ${position.quantity} held`;
        this.#accept(all ? 'exit' : 'partial_exit', side === 'long' ? 'sell' : 'buy', quantity, signal, candle);
        return null;
      }
    }
  }

  /** A market order of `signal`, decided at `candle`'s close, made pending (for the next open) and told. */
  #accept(reason: OrderReason, side: OrderSide, quantity: number, signal: Signal, candle: Candle): void {
    const order = this.#newOrder(reason, side, 'market', quantity, candle.openTime, signal.tag);
    const pending = { order, signal };
    this.#pending.push(pending);
    lastMade.pending = pending;
    this.#emit(order);
  }

  #unsizable(what: string, size: Signal['size'], close: number): string {
    const step = this.config.amountStep === undefined ? '' : ` (amount step ${this.config.amountStep})`;
    return `cannot size the ${what}: ${JSON.stringify(size)} of equity ${this.#equity} (cash ${this.#cash}) at close ${close} is 0${step}`;
  }

  #newOrder(reason: OrderReason, side: OrderSide, type: Order['type'], quantity: number, decidedAt: number, tag: string | undefined): Order {
    const counter = this.#counter;
    if (counter.decidedAt !== decidedAt) {
      counter.decidedAt = decidedAt;
      counter.next = 0;
    }
    const clientOrderId = this.#orderIds ? orderId(this.#strategyKey, decidedAt, counter.next) : '';
    counter.next += 1;
    // Two literals rather than a spread of the optional tag: the same keys in the same order, without the runtime
    // call a spread costs per order (80,000 orders over a million candles of MACD). Not frozen here: the broker never
    // changes an order (a change is a new record), and freezes one when it hands it out (openOrders, order events),
    // which most orders of a backtest never are (a freeze per order cost 5 ms per million candles of MACD).
    const status = 'accepted';
    const averagePrice = Number.NaN;
    const order: Order =
      tag === undefined
        ? { clientOrderId, side, type, reason, quantity, decidedAt, status, filledQuantity: 0, averagePrice }
        : { clientOrderId, side, type, reason, quantity, decidedAt, status, filledQuantity: 0, averagePrice, tag };
    lastMade.order = order;
    return order;
  }

  /** Fills the first pending order at `candle`'s open (market, slipped), removing it from the pending orders. */
  #fillAtOpen(pending: PendingOrder, candle: Candle): void {
    const { order, signal } = pending;
    const price = order.side === 'buy' ? candle.open * (1 + this.#slippage) : candle.open * (1 - this.#slippage);
    const increasesLong = order.side === 'buy' && (order.reason === 'entry' || order.reason === 'add');
    const quantity = increasesLong
      ? affordableQuantity(order.quantity, this.#cash, price, this.config.feeRate, this.config.amountStep)
      : order.quantity;
    if (!(quantity > 0)) {
      this.#pending.shift();
      this.#ignored.push({ time: order.decidedAt, signal, reason: `cash ${this.#cash} pays for none of ${order.clientOrderId} at the fill` });
      this.#emit({ ...order, status: 'rejected' });
      return;
    }
    this.#applyFill(order, signal, candle.openTime, price, quantity);
    if (quantity === order.quantity) {
      this.#pending.shift();
      if (this.#listeners.length > 0) this.#emit({ ...order, filledQuantity: quantity, averagePrice: price, status: 'filled' });
    } else {
      const filled: Order = { ...order, filledQuantity: quantity, averagePrice: price };
      this.#pending[0] = { order: { ...filled, status: 'partially_filled' }, signal };
      this.#emit(this.#pending[0].order);
      this.#pending.shift();
      this.#emit({ ...filled, status: 'cancelled' });
    }
  }

  /** Books one fill: cash, the fill record, the position, the round trip and, when it ends flat, the trade. */
  #applyFill(order: Order, signal: Signal | null, time: number, price: number, quantity: number): void {
    const fee = this.config.feeRate * price * quantity;
    this.#cash += order.side === 'buy' ? -(price * quantity + fee) : price * quantity - fee;
    if (this.#keepFills) this.#fills.push({ time, clientOrderId: order.clientOrderId, side: order.side, price, quantity, fee, reason: order.reason });
    const position = this.#position;
    if (order.reason === 'entry' || order.reason === 'add') {
      const side: PositionSide = order.side === 'buy' ? 'long' : 'short';
      const held = position?.quantity ?? 0;
      const total = held + quantity;
      const average = position === null ? price : (held * position.averageEntryPrice + quantity * price) / total;
      if (this.#trip === null) this.#trip = lastMade.trip = openRoundTrip(side, time, price, quantity, fee, signal?.tag);
      else addEntry(this.#trip, price, quantity, fee);
      const sign = side === 'long' ? 1 : -1;
      const stopPrice = signal?.stopLoss !== undefined ? average * (1 - sign * signal.stopLoss) : position?.stopPrice;
      const takeProfitPrice = signal?.takeProfit !== undefined ? average * (1 + sign * signal.takeProfit) : position?.takeProfitPrice;
      const tag = position === null ? signal?.tag : position.tag;
      // The optional keys added one by one rather than spread (a runtime call per spread); same keys, same order.
      const next: { -readonly [K in keyof Position]: Position[K] } = { side, quantity: total, averageEntryPrice: average, openedAt: position?.openedAt ?? time };
      if (stopPrice !== undefined) next.stopPrice = stopPrice;
      if (takeProfitPrice !== undefined) next.takeProfitPrice = takeProfitPrice;
      if (tag !== undefined) next.tag = tag;
      this.#position = lastMade.position = next; // frozen when handed out (see the position getter), as orders are
      return;
    }
    if (position === null || this.#trip === null) return; // unreachable: exits are planned from a held position
    addExit(this.#trip, price, quantity, fee);
    const left = remainingQuantity(position.quantity, quantity, this.config.amountStep);
    if (left > 0) {
      this.#position = { ...position, quantity: left };
      return;
    }
    if (this.#keepTrades) {
      const trade = closeRoundTrip(this.#trip, time, exitReasonOf(order.reason), order.tag);
      this.#trades.push(trade);
      addToTally(this.#tally, trade.pnl, trade.returnFraction);
    } else {
      const pnl = tripPnl(this.#trip);
      addToTally(this.#tally, pnl, tripReturn(this.#trip, pnl));
    }
    this.#trip = null;
    this.#position = null;
  }

  #checkTriggers(position: Position, candle: Candle): void {
    const { stopPrice: stop, takeProfitPrice: target } = position;
    if (stop === undefined && target === undefined) return;
    const long = position.side === 'long';
    const time = candle.openTime;
    if (stop !== undefined && atOrWorse(long, candle.open, stop)) {
      this.#trigger(position, 'stop_loss', 'stop', time, candle.open);
    } else if (target !== undefined && atOrBetter(long, candle.open, target)) {
      this.#trigger(position, 'take_profit', 'limit', time, candle.open);
    } else if (stop !== undefined && atOrWorse(long, long ? candle.low : candle.high, stop)) {
      this.#trigger(position, 'stop_loss', 'stop', time, stop);
    } else if (target !== undefined && atOrBetter(long, long ? candle.high : candle.low, target)) {
      this.#trigger(position, 'take_profit', 'limit', time, target);
    }
  }

  /**
   * Closes the whole position during the candle opening at `time` at `rawPrice` with an order created and filled at
   * once (`stop_loss`, `take_profit`, `end_of_data`); limit fills are not slipped.
   */
  #trigger(position: Position, reason: OrderReason, type: Order['type'], time: number, rawPrice: number): void {
    const side: OrderSide = position.side === 'long' ? 'sell' : 'buy';
    const slip = type === 'limit' ? 0 : this.#slippage;
    const price = side === 'sell' ? rawPrice * (1 - slip) : rawPrice * (1 + slip);
    const order = this.#newOrder(reason, side, type, position.quantity, time, undefined);
    this.#emit(order);
    this.#applyFill(order, null, time, price, position.quantity);
    if (this.#listeners.length > 0) this.#emit({ ...order, status: 'filled', filledQuantity: position.quantity, averagePrice: price });
  }

  #mark(close: number): void {
    this.#lastClose = close;
    this.#equity = this.#cash + this.#positionValue(close);
  }

  #positionValue(close: number): number {
    const p = this.#position;
    if (p === null) return 0;
    return p.side === 'long' ? p.quantity * close : -p.quantity * close;
  }

  #positionView(): PositionView | null {
    const p = this.#position;
    if (p === null) return null;
    const sign = p.side === 'long' ? 1 : -1;
    return Object.freeze({
      side: p.side,
      quantity: p.quantity,
      averageEntryPrice: p.averageEntryPrice,
      ...(p.stopPrice !== undefined && { stopPrice: p.stopPrice }),
      ...(p.takeProfitPrice !== undefined && { takeProfitPrice: p.takeProfitPrice }),
      openedAt: p.openedAt,
      unrealisedPnl: sign * p.quantity * (this.#lastClose - p.averageEntryPrice),
    });
  }

  /** Tells the listeners about `order` with the target quantity once every pending order has filled. */
  #emit(order: Order): void {
    if (this.#listeners.length === 0) return;
    const event = Object.freeze({ order: Object.freeze(order), targetQuantity: this.#targetQuantity(order) });
    for (const listener of this.#listeners) listener(event);
  }

  /**
   * The signed position quantity once every working order has filled: the pending orders and `emitted` (a stop-loss,
   * take-profit or end-of-data order, working between its acceptance and its fill without being pending).
   */
  #targetQuantity(emitted: Order): number {
    const p = this.#position;
    let target = p === null ? 0 : p.side === 'long' ? p.quantity : -p.quantity;
    const pending = this.#pending.map((q) => q.order);
    const working = pending.some((o) => o.clientOrderId === emitted.clientOrderId) ? pending : [...pending, emitted];
    for (const order of working) {
      if (order.status !== 'accepted' && order.status !== 'partially_filled') continue;
      const left = order.quantity - order.filledQuantity;
      target += order.side === 'buy' ? left : -left;
    }
    return target;
  }
}

/**
 * The last pending order (with its signal), order, position and round trip any broker of this process made, kept only
 * so that their hidden classes (V8 maps) outlive a full garbage collection that finds no such object in use: between
 * two optimisation trials (see `lastTrial` in `optimize/trial.ts`) every one of them is garbage, and V8 would then
 * discard the broker's optimised code that depends on those maps (`--trace-deopt`: "reason: weak objects", for
 * `submit`, `#plan`, `#fillAtOpen`, `#applyFill`, the signal's parsing, ...), so that the next run paid for running
 * them unoptimised until compiled again. A few objects of one run, changed on each order and fill.
 */
const lastMade: { pending: PendingOrder | null; order: Order | null; position: Position | null; trip: OpenRoundTrip | null } = {
  pending: null,
  order: null,
  position: null,
  trip: null,
};

/** The decision of every signal that became orders (one frozen object: nothing to allocate per signal). */
const ACTED: SignalDecision = Object.freeze({ acted: true });

/** The trade's exit reason for the reason of the order that made the position flat. */
function exitReasonOf(reason: OrderReason): ExitReason {
  switch (reason) {
    case 'stop_loss':
    case 'take_profit':
    case 'reversal':
    case 'end_of_data':
    case 'closed_on_exchange':
      return reason;
    default:
      return 'signal';
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
