/**
 * The simulator's spot account: balances per asset, the orders placed on it, and its trades (fills), with the rules
 * Binance spot applies to a MARKET order. No HTTP here: `orders.ts` parses and signs, this module decides.
 *
 * Model (Binance spot, https://developers.binance.com/docs/binance-spot-api-docs/rest-api/trading-endpoints):
 * - the market's price is the close of the newest kline event the exchange clock has reached (see `tape.klineAt`):
 *   the price path is the sequence of those events, forming frames and closes, the same the WebSocket shows;
 * - a MARKET order fills at once at the latest price; it is `FILLED`, or `EXPIRED` with `executedQty < origQty` when
 *   the `orderPartial` fault leaves part of it unfilled (Binance does so when the book runs out of liquidity);
 * - a LIMIT order (GTC) that is marketable when it arrives (a buy at or above the price, a sell at or below) fills at
 *   once at the latest price; otherwise it rests (`NEW`) and fills whole at its limit price at the first later event
 *   whose price reaches it (buy: price ≤ limit; sell: price ≥ limit);
 * - a STOP_LOSS order rests until the price reaches its `stopPrice` (sell: price ≤ stop; buy: price ≥ stop), a
 *   TAKE_PROFIT order until it passes it the other way (sell: ≥; buy: ≤), then fills as a MARKET order at that event's
 *   price (so a gap fills beyond the stop, as on a real exchange); one that would trigger at once is refused, −2010
 *   "Stop price would trigger immediately.";
 * - a resting order locks what it may spend (a sell its quantity of base; a buy quantity × limit or stop price +
 *   commission of quote), released when it fills or is cancelled (`DELETE /api/v3/order`); a buy stop that gaps above
 *   what the account can pay expires unfilled. Resting orders are matched lazily, whenever the account is read or
 *   written, against every event since the previous match, so the outcome does not depend on when anyone looks;
 * - the quantity is given in base (`quantity`) or, as Binance's `quoteOrderQty`, in quote: the base quantity is then
 *   the quote amount divided by the price, rounded down to the lot step;
 * - filters, as `exchangeInfo` announces them: LOT_SIZE (a multiple of the step, ≥ one step, ≤ 9000),
 *   MARKET_LOT_SIZE (MARKET and stop orders ≤ 100), PRICE_FILTER (a limit or stop price on the tick), NOTIONAL
 *   (quantity × price ≥ 5 quote, at the latest, limit or stop price) → −1013 "Filter failure: <filter>";
 * - balance checks before anything moves: a BUY needs quantity × price + commission of free quote, a SELL the
 *   quantity of free base → −2010 "Account has insufficient balance for requested action." (ccxt: InsufficientFunds);
 * - the client order id (`newClientOrderId`) is, as Binance documents it, "a unique id among open orders": a new
 *   order reusing the id of an open order is refused with −2010 "Duplicate order sent."; the id of a filled or expired
 *   order may be used again (so on Binance a retried MARKET order whose first attempt filled is NOT refused: resolve
 *   an ambiguous order by asking for its client order id before retrying). `clientOrderIdScope: 'all'` makes the
 *   simulator stricter than Binance and refuse any id it has seen.
 *
 * Deliberate deviation: the commission (`commission`, a fraction of the fill's quote amount, default 0.001 = Binance's
 * 0.1% taker rate) is charged in the QUOTE asset on both sides, whereas Binance takes a buy's commission in the base
 * asset. So the base balance always equals the base quantities traded, which is what a paper/real drift check compares.
 *
 * Amounts are kept as integers of 10⁻⁸ (Binance's 8 decimals): a fill's quote amount is quantity × price rounded to
 * 8 decimals, its commission that amount × `commission` rounded to 8 decimals.
 *
 * @module
 */
import type { BinanceError } from './binance-format';
import { eventTime, klineAt, stepAt, visibleCount, type MarketTape } from './tape';

/** The account the simulator trades for signed requests (`SimulatorConfig.account`). */
export interface SimulatorAccount {
  /** The API key signed requests must carry (`X-MBX-APIKEY`). Never logged. */
  readonly apiKey: string;
  /** The HMAC-SHA256 secret of the signatures. Never logged. */
  readonly secret: string;
  /**
   * Free balance of each asset at start, e.g. `{ USDT: 10_000, BTC: 0 }` (at most 8 decimals are kept). Default: one
   * million of each simulated market's quote asset and nothing else.
   */
  readonly balances?: Readonly<Record<string, number>>;
  /** Commission of each fill as a fraction of its quote amount, charged in the quote asset; default 0.001 (0.1%). */
  readonly commission?: number;
  /**
   * Which earlier orders a new client order id may not repeat: `'open'` (default, Binance's rule: only orders still
   * open) or `'all'` (every order ever placed: stricter than Binance).
   */
  readonly clientOrderIdScope?: 'open' | 'all';
}

/** Binance's order states; a MARKET order ends `FILLED` or `EXPIRED`, a resting one is `NEW` until it fills or is cancelled. */
export type SimulatedOrderStatus = 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'EXPIRED';

/** The order types the account serves (Binance's names). */
export type SimulatedOrderType = 'MARKET' | 'LIMIT' | 'STOP_LOSS' | 'TAKE_PROFIT';

/** The order types the account serves, as `exchangeInfo` lists them. */
export const SIMULATED_ORDER_TYPES: readonly SimulatedOrderType[] = ['LIMIT', 'MARKET', 'STOP_LOSS', 'TAKE_PROFIT'];

/**
 * An order placed on the simulator's account. Prices and quote amounts in quote currency, quantities in base currency,
 * times in UTC epoch ms of the exchange clock.
 */
export interface SimulatedOrder {
  readonly orderId: number;
  readonly clientOrderId: string;
  /** Binance symbol id, e.g. `BTCUSDT`. */
  readonly symbol: string;
  readonly side: 'BUY' | 'SELL';
  readonly type: SimulatedOrderType;
  /** The limit price of a LIMIT order, 0 for the others. */
  readonly limitPrice: number;
  /** The trigger price of a STOP_LOSS or TAKE_PROFIT order, 0 for the others. */
  readonly stopPrice: number;
  /** The quantity asked (`origQty`). */
  readonly quantity: number;
  /** The quote amount asked (`quoteOrderQty`), 0 when the order gave a base quantity. */
  readonly quoteOrderQuantity: number;
  /** The quantity filled (`executedQty`). */
  readonly executedQuantity: number;
  /** Quote amount of the fills (`cummulativeQuoteQty`). */
  readonly quoteQuantity: number;
  /** The average fill price, 0 before any fill. */
  readonly price: number;
  /** Commission paid, in `commissionAsset` (the quote asset). */
  readonly commission: number;
  readonly commissionAsset: string;
  readonly status: SimulatedOrderStatus;
  /** When it was placed. */
  readonly transactTime: number;
  /** When it last changed (placed, filled, cancelled, expired). */
  readonly updateTime: number;
  /** Placed through {@link SimAccount.trade} (a person trading by hand), not through the REST API. */
  readonly manual: boolean;
}

/** A fill on the account (Binance's `myTrades` entry). Units as {@link SimulatedOrder}. */
export interface SimulatedTrade {
  readonly id: number;
  readonly orderId: number;
  readonly symbol: string;
  readonly side: 'BUY' | 'SELL';
  readonly price: number;
  readonly quantity: number;
  readonly quoteQuantity: number;
  readonly commission: number;
  readonly commissionAsset: string;
  readonly time: number;
}

/** Free and locked amount of one asset. */
export interface AssetBalance {
  readonly free: number;
  readonly locked: number;
}

/**
 * An order as the account receives it: `quantity` (base) for every type, or for a MARKET order `quoteOrderQty` (quote)
 * instead; `price` for a LIMIT order; `stopPrice` for STOP_LOSS and TAKE_PROFIT.
 */
export interface OrderRequest {
  /** Binance symbol id, e.g. `BTCUSDT`. */
  readonly symbol: string;
  readonly side: 'BUY' | 'SELL';
  readonly type: SimulatedOrderType;
  readonly quantity?: number;
  readonly quoteOrderQty?: number;
  readonly price?: number;
  readonly stopPrice?: number;
  readonly clientOrderId: string;
}

/** What {@link SimAccount.placeOrder} or {@link SimAccount.cancelOrder} decided: the order, or Binance's refusal (nothing changed). */
export type PlaceResult = { readonly ok: true; readonly order: SimulatedOrder } | { readonly ok: false; readonly error: BinanceError };

/** A hand trade ({@link SimAccount.trade}) the account refused; the message is Binance's. */
export class SimulatorAccountError extends Error {}

const UNIT = 1e8;
const toUnits = (x: number): number => Math.round(x * UNIT);
const fromUnits = (u: number): number => u / UNIT;
const MAX_QTY_UNITS = toUnits(9000);
const MAX_MARKET_QTY_UNITS = toUnits(100);
const MIN_NOTIONAL_UNITS = toUnits(5);
const DEFAULT_QUOTE_BALANCE = 1_000_000;

/** Binance error bodies of the order path (texts from Binance's `errors.md`). */
export const ACCOUNT_ERRORS = {
  insufficientBalance: { code: -2010, msg: 'Account has insufficient balance for requested action.' },
  duplicateOrder: { code: -2010, msg: 'Duplicate order sent.' },
  marketClosed: { code: -2010, msg: 'Market is closed.' },
  wouldTrigger: { code: -2010, msg: 'Stop price would trigger immediately.' },
  unknownOrder: { code: -2011, msg: 'Unknown order sent.' },
  invalidSymbol: { code: -1121, msg: 'Invalid symbol.' },
  /** −1013: the order fails the named `exchangeInfo` filter (`LOT_SIZE`, `MARKET_LOT_SIZE`, `NOTIONAL`). */
  filter: (name: string): BinanceError => ({ code: -1013, msg: `Filter failure: ${name}` }),
} as const;

/** What a resting order holds back: `units` (10⁻⁸) of `asset`. */
interface Lock {
  readonly asset: string;
  readonly units: number;
}

/**
 * The simulator's account (see the module doc). Created by the simulator from `config.account`; reachable as
 * `Simulator.account` to inspect balances, orders and trades, and to {@link SimAccount.trade | trade by hand}.
 */
export class SimAccount {
  /** Free amount per asset, units of 10⁻⁸. */
  readonly #free = new Map<string, number>();
  /** Locked amount per asset, units of 10⁻⁸. */
  readonly #locked = new Map<string, number>();
  readonly #orders: SimulatedOrder[] = [];
  readonly #trades: SimulatedTrade[] = [];
  /** What each resting order locks, by order id. */
  readonly #locks = new Map<number, Lock>();
  readonly #commission: number;
  readonly #scope: 'open' | 'all';
  /** Exchange time up to which resting orders have been matched. */
  #matchedTo: number;

  /**
   * @param config - the account's configuration (balances, commission, client order id scope).
   * @param tapes - the simulated markets.
   * @param now - the exchange clock, UTC epoch ms.
   */
  constructor(
    config: SimulatorAccount,
    private readonly tapes: readonly MarketTape[],
    private readonly now: () => number,
  ) {
    this.#commission = config.commission ?? 0.001;
    this.#scope = config.clientOrderIdScope ?? 'open';
    const initial = config.balances ?? Object.fromEntries(tapes.map((t) => [t.quote, DEFAULT_QUOTE_BALANCE]));
    for (const [asset, amount] of Object.entries(initial)) this.#free.set(asset, toUnits(amount));
    this.#matchedTo = now();
  }

  /** Orders placed so far, oldest first (REST and hand trades), resting ones matched up to now. */
  get orders(): readonly SimulatedOrder[] {
    this.#match();
    return this.#orders;
  }

  /** Fills so far, oldest first, resting orders matched up to now. */
  get trades(): readonly SimulatedTrade[] {
    this.#match();
    return this.#trades;
  }

  /** Commission fraction charged on each fill's quote amount. */
  get commission(): number {
    return this.#commission;
  }

  /** The balance of `asset` (zero for an asset never held). */
  balance(asset: string): AssetBalance {
    this.#match();
    return { free: fromUnits(this.#free.get(asset) ?? 0), locked: fromUnits(this.#locked.get(asset) ?? 0) };
  }

  /** Every asset the account has held or been configured with, with its balance. */
  balances(): ReadonlyMap<string, AssetBalance> {
    this.#match();
    return new Map([...this.#free.keys()].map((asset) => [asset, this.balance(asset)]));
  }

  /**
   * A trade by hand on the account (a person selling on the exchange's website while a run trades it): a MARKET order
   * at the market's latest price, with a client order id `manual-<n>`, listed in `myTrades` and `allOrders` like any.
   *
   * @param request - `symbol` unified (`BTC/USDT`), `side`, `quantity` in base currency.
   * @returns the filled order.
   * @throws {@link SimulatorAccountError} with Binance's message when the account refuses it (unknown symbol, filter,
   *   insufficient balance).
   */
  trade(request: { readonly symbol: string; readonly side: 'buy' | 'sell'; readonly quantity: number }): SimulatedOrder {
    const tape = this.tapes.find((t) => t.symbol === request.symbol);
    const result = this.placeOrder(
      {
        symbol: tape?.id ?? request.symbol,
        side: request.side === 'buy' ? 'BUY' : 'SELL',
        type: 'MARKET',
        quantity: request.quantity,
        clientOrderId: `manual-${this.#orders.length + 1}`,
      },
      { manual: true },
    );
    if (!result.ok) throw new SimulatorAccountError(`hand ${request.side} of ${request.quantity} ${request.symbol}: ${result.error.msg}`);
    return result.order;
  }

  /**
   * A transfer by hand, not a trade (a person depositing coins, or withdrawing them to another wallet): adds
   * `amount` (negative: removes it) to the free balance of `asset`. Listed nowhere else: no order, no trade, so
   * reconciliation cannot explain a withdrawal by the account's trades.
   *
   * @throws {@link SimulatorAccountError} when a withdrawal exceeds the free balance.
   */
  transfer(request: { readonly asset: string; readonly amount: number }): void {
    this.#match();
    const units = toUnits(request.amount);
    if ((this.#free.get(request.asset) ?? 0) + units < 0) {
      throw new SimulatorAccountError(`hand withdrawal of ${-request.amount} ${request.asset}: only ${fromUnits(this.#free.get(request.asset) ?? 0)} free`);
    }
    this.#move(request.asset, units);
  }

  /**
   * Places an order, all or nothing: on refusal nothing changes.
   *
   * @param request - the order.
   * @param options - `fillFraction` in (0, 1): a MARKET order fills only that fraction of its quantity (rounded down to
   *   the lot step) and the rest expires (the `orderPartial` fault); `manual`: a hand trade.
   */
  placeOrder(request: OrderRequest, options: { readonly fillFraction?: number; readonly manual?: boolean } = {}): PlaceResult {
    this.#match();
    const refuse = (error: BinanceError): PlaceResult => ({ ok: false, error });
    const tape = this.tapes.find((t) => t.id === request.symbol);
    if (tape === undefined) return refuse(ACCOUNT_ERRORS.invalidSymbol);
    const duplicate = this.#orders.some(
      (o) => o.clientOrderId === request.clientOrderId && (this.#scope === 'all' || o.status === 'NEW' || o.status === 'PARTIALLY_FILLED'),
    );
    if (duplicate) return refuse(ACCOUNT_ERRORS.duplicateOrder);
    const now = this.now();
    const price = latestPrice(tape, now);
    if (price === undefined) return refuse(ACCOUNT_ERRORS.marketClosed);
    const stepUnits = 10 ** (8 - tape.volumeDecimals);
    const asked =
      request.quantity !== undefined
        ? toUnits(request.quantity)
        : Math.floor(toUnits((request.quoteOrderQty ?? 0) / price) / stepUnits) * stepUnits;
    if (asked < stepUnits || asked > MAX_QTY_UNITS || asked % stepUnits !== 0) return refuse(ACCOUNT_ERRORS.filter('LOT_SIZE'));
    if (request.type !== 'LIMIT' && asked > MAX_MARKET_QTY_UNITS) return refuse(ACCOUNT_ERRORS.filter('MARKET_LOT_SIZE'));
    const level = request.type === 'LIMIT' ? request.price ?? 0 : request.type === 'MARKET' ? price : request.stopPrice ?? 0;
    const tickUnits = 10 ** (8 - tape.priceDecimals);
    if (request.type !== 'MARKET' && (!(level > 0) || toUnits(level) % tickUnits !== 0)) return refuse(ACCOUNT_ERRORS.filter('PRICE_FILTER'));
    if (Math.round(asked * level) < MIN_NOTIONAL_UNITS) return refuse(ACCOUNT_ERRORS.filter('NOTIONAL'));
    const buy = request.side === 'BUY';
    const triggered = reached(request.type, buy, price, level);
    if ((request.type === 'STOP_LOSS' || request.type === 'TAKE_PROFIT') && triggered) return refuse(ACCOUNT_ERRORS.wouldTrigger);
    const immediate = request.type === 'MARKET' || (request.type === 'LIMIT' && triggered);
    // What the order may spend: a buy its quantity at the price it can fill at (plus commission), a sell its quantity.
    const needed = buy ? { asset: tape.quote, units: this.#withCommission(Math.round(asked * (immediate ? price : level))) } : { asset: tape.base, units: asked };
    if ((this.#free.get(needed.asset) ?? 0) < needed.units) return refuse(ACCOUNT_ERRORS.insufficientBalance);
    const order: SimulatedOrder = {
      orderId: this.#orders.length + 1,
      clientOrderId: request.clientOrderId,
      symbol: tape.id,
      side: request.side,
      type: request.type,
      limitPrice: request.type === 'LIMIT' ? level : 0,
      stopPrice: request.type === 'STOP_LOSS' || request.type === 'TAKE_PROFIT' ? level : 0,
      quantity: fromUnits(asked),
      quoteOrderQuantity: request.quoteOrderQty ?? 0,
      executedQuantity: 0,
      quoteQuantity: 0,
      price: 0,
      commission: 0,
      commissionAsset: tape.quote,
      status: 'NEW',
      transactTime: now,
      updateTime: now,
      manual: options.manual ?? false,
    };
    this.#orders.push(order);
    if (!immediate) {
      this.#move(needed.asset, -needed.units, needed.units);
      this.#locks.set(order.orderId, needed);
      return { ok: true, order };
    }
    const fraction = request.type === 'MARKET' ? options.fillFraction : undefined;
    const executed = fraction === undefined ? asked : Math.floor((asked * fraction) / stepUnits) * stepUnits;
    return { ok: true, order: this.#fill(order.orderId - 1, tape, price, executed, now) };
  }

  /**
   * Cancels a resting order of `symbol` found by `orderId` or, when given, `clientOrderId` (the open one), releasing
   * what it locked. An order that is not open (filled, expired, cancelled) or unknown → −2011 "Unknown order sent."
   */
  cancelOrder(symbol: string, key: { readonly orderId?: number; readonly clientOrderId?: string }): PlaceResult {
    this.#match();
    const index = this.#orders.findIndex(
      (o) =>
        o.symbol === symbol &&
        o.status === 'NEW' &&
        (key.clientOrderId !== undefined ? o.clientOrderId === key.clientOrderId : o.orderId === key.orderId),
    );
    if (index < 0) return { ok: false, error: ACCOUNT_ERRORS.unknownOrder };
    const order = this.#orders[index]!;
    this.#release(order.orderId);
    const cancelled: SimulatedOrder = { ...order, status: 'CANCELED', updateTime: this.now() };
    this.#orders[index] = cancelled;
    return { ok: true, order: cancelled };
  }

  /**
   * The order of `symbol` with this `orderId` or, when `clientOrderId` is given, the latest one with that client
   * order id (Binance's `GET /api/v3/order` lookup); `undefined` when there is none.
   */
  findOrder(symbol: string, key: { readonly orderId?: number; readonly clientOrderId?: string }): SimulatedOrder | undefined {
    const matches = this.orders.filter((o) =>
      o.symbol === symbol && (key.clientOrderId !== undefined ? o.clientOrderId === key.clientOrderId : o.orderId === key.orderId),
    );
    return matches.at(-1);
  }

  #withCommission(costUnits: number): number {
    return costUnits + Math.round(costUnits * this.#commission);
  }

  /** Adds `freeDelta` to the free and `lockedDelta` to the locked amount of `asset` (units). */
  #move(asset: string, freeDelta: number, lockedDelta = 0): void {
    this.#free.set(asset, (this.#free.get(asset) ?? 0) + freeDelta);
    if (lockedDelta !== 0) this.#locked.set(asset, (this.#locked.get(asset) ?? 0) + lockedDelta);
  }

  #release(orderId: number): void {
    const lock = this.#locks.get(orderId);
    if (lock === undefined) return;
    this.#locks.delete(orderId);
    this.#move(lock.asset, lock.units, -lock.units);
  }

  /**
   * Fills `executed` units of the order at `index` at `price` at exchange time `time`: moves the balances, records the
   * trade, and ends the order `FILLED` (or `EXPIRED` when less than its quantity filled). A buy the free quote cannot
   * pay for expires unfilled.
   */
  #fill(index: number, tape: MarketTape, price: number, executed: number, time: number): SimulatedOrder {
    const order = this.#orders[index]!;
    this.#release(order.orderId);
    const cost = Math.round(executed * price);
    const fee = Math.round(cost * this.#commission);
    const buy = order.side === 'BUY';
    const affordable = buy ? (this.#free.get(tape.quote) ?? 0) >= cost + fee : (this.#free.get(tape.base) ?? 0) >= executed;
    if (!affordable || executed === 0) {
      const expired: SimulatedOrder = { ...order, status: 'EXPIRED', updateTime: time };
      this.#orders[index] = expired;
      return expired;
    }
    this.#move(tape.base, (buy ? 1 : -1) * executed);
    this.#move(tape.quote, (buy ? -1 : 1) * cost - fee);
    const filled: SimulatedOrder = {
      ...order,
      executedQuantity: fromUnits(executed),
      quoteQuantity: fromUnits(cost),
      price,
      commission: fromUnits(fee),
      status: executed === toUnits(order.quantity) ? 'FILLED' : 'EXPIRED',
      updateTime: time,
    };
    this.#orders[index] = filled;
    this.#trades.push({
      id: this.#trades.length + 1,
      orderId: order.orderId,
      symbol: tape.id,
      side: order.side,
      price,
      quantity: filled.executedQuantity,
      quoteQuantity: filled.quoteQuantity,
      commission: filled.commission,
      commissionAsset: tape.quote,
      time,
    });
    return filled;
  }

  /** Matches resting orders against every price event after the previous match up to now, in time order. */
  #match(): void {
    const now = this.now();
    const from = this.#matchedTo;
    if (now <= from) return;
    this.#matchedTo = now;
    for (const tape of this.tapes) {
      if (!this.#orders.some((o) => o.status === 'NEW' && o.symbol === tape.id)) continue;
      for (const { time, price } of priceEvents(tape, from, now)) {
        this.#orders.forEach((o, index) => {
          if (o.status !== 'NEW' || o.symbol !== tape.id) return;
          const level = o.type === 'LIMIT' ? o.limitPrice : o.stopPrice;
          if (!reached(o.type, o.side === 'BUY', price, level)) return;
          // A resting limit order fills at its own price; a triggered stop or take-profit at the market's.
          this.#fill(index, tape, o.type === 'LIMIT' ? level : price, toUnits(o.quantity), time);
        });
      }
    }
  }
}

/** The market's latest price at exchange time `now`, `undefined` before its first candle. */
function latestPrice(tape: MarketTape, now: number): number | undefined {
  const visible = visibleCount(tape, now);
  return visible === 0 ? undefined : klineAt(tape, visible - 1, stepAt(tape, visible - 1, now), false).close;
}

/**
 * Whether `price` reaches an order's `level`: LIMIT buy ≤ / sell ≥ (marketable), STOP_LOSS buy ≥ / sell ≤,
 * TAKE_PROFIT buy ≤ / sell ≥. Always true for MARKET.
 */
function reached(type: SimulatedOrderType, buy: boolean, price: number, level: number): boolean {
  if (type === 'MARKET') return true;
  const falling = type === 'STOP_LOSS' ? !buy : buy;
  return falling ? price <= level : price >= level;
}

/** The market's price events (kline event closes) with time in (`from`, `to`], in time order. */
function priceEvents(tape: MarketTape, from: number, to: number): { readonly time: number; readonly price: number }[] {
  const events: { time: number; price: number }[] = [];
  const first = Math.max(0, visibleCount(tape, from) - 1);
  const last = visibleCount(tape, to);
  for (let i = first; i < last; i += 1) {
    for (let step = 0; step <= tape.updatesPerCandle; step += 1) {
      const time = eventTime(tape, i, step);
      if (time > from && time <= to) events.push({ time, price: klineAt(tape, i, step, false).close });
    }
  }
  return events.sort((a, b) => a.time - b.time);
}
