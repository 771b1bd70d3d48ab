/**
 * The simulator's spot account: balances per asset, the orders placed on it, and its trades (fills), with the rules
 * Binance spot applies to a MARKET order. No HTTP here: `orders.ts` parses and signs, this module decides.
 *
 * Model (Binance spot, https://developers.binance.com/docs/binance-spot-api-docs/rest-api/trading-endpoints):
 * - a MARKET order fills at once at the traded market's latest price (the close of the newest kline event the
 *   exchange clock has reached, see `tape.klineAt`); it is `FILLED`, or `EXPIRED` with `executedQty < origQty` when
 *   the `orderPartial` fault leaves part of it unfilled (Binance does so when the book runs out of liquidity);
 * - the quantity is given in base (`quantity`) or, as Binance's `quoteOrderQty`, in quote: the base quantity is then
 *   the quote amount divided by the price, rounded down to the lot step;
 * - filters, as `exchangeInfo` announces them: LOT_SIZE (a multiple of the step, ≥ one step, ≤ 9000),
 *   MARKET_LOT_SIZE (≤ 100), NOTIONAL (quantity × price ≥ 5 quote) → −1013 "Filter failure: <filter>";
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
import { klineAt, stepAt, visibleCount, type MarketTape } from './tape';

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

/** Binance's order states; a MARKET order ends `FILLED` or `EXPIRED`. */
export type SimulatedOrderStatus = 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'EXPIRED';

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
  readonly type: 'MARKET';
  /** The quantity asked (`origQty`). */
  readonly quantity: number;
  /** The quote amount asked (`quoteOrderQty`), 0 when the order gave a base quantity. */
  readonly quoteOrderQuantity: number;
  /** The quantity filled (`executedQty`). */
  readonly executedQuantity: number;
  /** Quote amount of the fills (`cummulativeQuoteQty`). */
  readonly quoteQuantity: number;
  /** The fill price (the market's latest price when the order arrived). */
  readonly price: number;
  /** Commission paid, in `commissionAsset` (the quote asset). */
  readonly commission: number;
  readonly commissionAsset: string;
  readonly status: SimulatedOrderStatus;
  readonly transactTime: number;
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

/** A MARKET order as the account receives it: exactly one of `quantity` (base) and `quoteOrderQty` (quote) is set. */
export interface MarketOrderRequest {
  /** Binance symbol id, e.g. `BTCUSDT`. */
  readonly symbol: string;
  readonly side: 'BUY' | 'SELL';
  readonly quantity?: number;
  readonly quoteOrderQty?: number;
  readonly clientOrderId: string;
}

/** What {@link SimAccount.placeMarketOrder} decided: the order, or Binance's refusal (nothing changed). */
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
  invalidSymbol: { code: -1121, msg: 'Invalid symbol.' },
  /** −1013: the order fails the named `exchangeInfo` filter (`LOT_SIZE`, `MARKET_LOT_SIZE`, `NOTIONAL`). */
  filter: (name: string): BinanceError => ({ code: -1013, msg: `Filter failure: ${name}` }),
} as const;

/**
 * The simulator's account (see the module doc). Created by the simulator from `config.account`; reachable as
 * `Simulator.account` to inspect balances, orders and trades, and to {@link SimAccount.trade | trade by hand}.
 */
export class SimAccount {
  readonly #balances = new Map<string, number>();
  readonly #orders: SimulatedOrder[] = [];
  readonly #trades: SimulatedTrade[] = [];
  readonly #commission: number;
  readonly #scope: 'open' | 'all';

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
    for (const [asset, amount] of Object.entries(initial)) this.#balances.set(asset, toUnits(amount));
  }

  /** Orders placed so far, oldest first (REST and hand trades). */
  get orders(): readonly SimulatedOrder[] {
    return this.#orders;
  }

  /** Fills so far, oldest first. */
  get trades(): readonly SimulatedTrade[] {
    return this.#trades;
  }

  /** Commission fraction charged on each fill's quote amount. */
  get commission(): number {
    return this.#commission;
  }

  /** The balance of `asset` (zero for an asset never held). Nothing is ever locked: every order fills at once. */
  balance(asset: string): AssetBalance {
    return { free: fromUnits(this.#balances.get(asset) ?? 0), locked: 0 };
  }

  /** Every asset the account has held or been configured with, with its balance. */
  balances(): ReadonlyMap<string, AssetBalance> {
    return new Map([...this.#balances.keys()].map((asset) => [asset, this.balance(asset)]));
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
    const result = this.placeMarketOrder(
      {
        symbol: tape?.id ?? request.symbol,
        side: request.side === 'buy' ? 'BUY' : 'SELL',
        quantity: request.quantity,
        clientOrderId: `manual-${this.#orders.length + 1}`,
      },
      { manual: true },
    );
    if (!result.ok) throw new SimulatorAccountError(`hand ${request.side} of ${request.quantity} ${request.symbol}: ${result.error.msg}`);
    return result.order;
  }

  /**
   * Places a MARKET order, all or nothing: on refusal nothing changes.
   *
   * @param request - the order.
   * @param options - `fillFraction` in (0, 1): fill only that fraction of the quantity (rounded down to the lot step)
   *   and expire the rest (the `orderPartial` fault); `manual`: a hand trade.
   */
  placeMarketOrder(request: MarketOrderRequest, options: { readonly fillFraction?: number; readonly manual?: boolean } = {}): PlaceResult {
    const refuse = (error: BinanceError): PlaceResult => ({ ok: false, error });
    const tape = this.tapes.find((t) => t.id === request.symbol);
    if (tape === undefined) return refuse(ACCOUNT_ERRORS.invalidSymbol);
    const duplicate = this.#orders.some(
      (o) => o.clientOrderId === request.clientOrderId && (this.#scope === 'all' || o.status === 'NEW' || o.status === 'PARTIALLY_FILLED'),
    );
    if (duplicate) return refuse(ACCOUNT_ERRORS.duplicateOrder);
    const now = this.now();
    const visible = visibleCount(tape, now);
    if (visible === 0) return refuse(ACCOUNT_ERRORS.marketClosed);
    const price = klineAt(tape, visible - 1, stepAt(tape, visible - 1, now), false).close;
    const stepUnits = 10 ** (8 - tape.volumeDecimals);
    const asked =
      request.quantity !== undefined
        ? toUnits(request.quantity)
        : Math.floor(toUnits((request.quoteOrderQty ?? 0) / price) / stepUnits) * stepUnits;
    if (asked < stepUnits || asked > MAX_QTY_UNITS || asked % stepUnits !== 0) return refuse(ACCOUNT_ERRORS.filter('LOT_SIZE'));
    if (asked > MAX_MARKET_QTY_UNITS) return refuse(ACCOUNT_ERRORS.filter('MARKET_LOT_SIZE'));
    if (Math.round(asked * price) < MIN_NOTIONAL_UNITS) return refuse(ACCOUNT_ERRORS.filter('NOTIONAL'));
    const fraction = options.fillFraction;
    const executed = fraction === undefined ? asked : Math.floor((asked * fraction) / stepUnits) * stepUnits;
    const cost = Math.round(executed * price);
    const fee = Math.round(cost * this.#commission);
    const quoteHeld = this.#balances.get(tape.quote) ?? 0;
    const baseHeld = this.#balances.get(tape.base) ?? 0;
    const affordable =
      request.side === 'BUY' ? quoteHeld >= Math.round(Math.round(asked * price) * (1 + this.#commission)) : baseHeld >= asked;
    if (!affordable) return refuse(ACCOUNT_ERRORS.insufficientBalance);
    const sign = request.side === 'BUY' ? 1 : -1;
    this.#balances.set(tape.base, baseHeld + sign * executed);
    this.#balances.set(tape.quote, quoteHeld - sign * cost - fee);
    const order: SimulatedOrder = {
      orderId: this.#orders.length + 1,
      clientOrderId: request.clientOrderId,
      symbol: tape.id,
      side: request.side,
      type: 'MARKET',
      quantity: fromUnits(asked),
      quoteOrderQuantity: request.quoteOrderQty ?? 0,
      executedQuantity: fromUnits(executed),
      quoteQuantity: fromUnits(cost),
      price,
      commission: fromUnits(fee),
      commissionAsset: tape.quote,
      status: executed === asked ? 'FILLED' : 'EXPIRED',
      transactTime: now,
      manual: options.manual ?? false,
    };
    this.#orders.push(order);
    if (executed > 0) {
      this.#trades.push({
        id: this.#trades.length + 1,
        orderId: order.orderId,
        symbol: tape.id,
        side: request.side,
        price,
        quantity: order.executedQuantity,
        quoteQuantity: order.quoteQuantity,
        commission: order.commission,
        commissionAsset: tape.quote,
        time: now,
      });
    }
    return { ok: true, order };
  }

  /**
   * The order of `symbol` with this `orderId` or, when `clientOrderId` is given, the latest one with that client
   * order id (Binance's `GET /api/v3/order` lookup); `undefined` when there is none.
   */
  findOrder(symbol: string, key: { readonly orderId?: number; readonly clientOrderId?: string }): SimulatedOrder | undefined {
    const matches = this.#orders.filter((o) =>
      o.symbol === symbol && (key.clientOrderId !== undefined ? o.clientOrderId === key.clientOrderId : o.orderId === key.orderId),
    );
    return matches.at(-1);
  }
}
