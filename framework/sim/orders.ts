/**
 * The simulator's signed (account) endpoints, as Binance spot serves them and ccxt's `binance` class calls them:
 *
 * | endpoint                    | ccxt                                   | weight |
 * |-----------------------------|----------------------------------------|--------|
 * | `GET /api/v3/account`       | `fetchBalance()`                       | 20     |
 * | `POST /api/v3/order`        | `createOrder(symbol, 'market', …)`     | 1      |
 * | `GET /api/v3/order`         | `fetchOrder(id, symbol[, { clientOrderId }])` (→ `origClientOrderId`) | 4 |
 * | `DELETE /api/v3/order`      | `cancelOrder(id, symbol)`              | 1      |
 * | `GET /api/v3/openOrders`    | `fetchOpenOrders([symbol])`            | 6 (80 without symbol) |
 * | `GET /api/v3/allOrders`     | `fetchOrders(symbol)`                  | 20     |
 * | `GET /api/v3/myTrades`      | `fetchMyTrades(symbol[, since, limit])` | 20    |
 *
 * Signing (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security): the
 * `X-MBX-APIKEY` header carries the API key; the parameters (query string for GET/DELETE, form body for POST) end
 * with `signature`, the hex HMAC-SHA256 of everything before it keyed with the secret; `timestamp` must be within
 * `recvWindow` (default 5,000 ms) of the server's clock. The simulator's exchange clock runs `speed` times faster than
 * real time, so it checks `timestamp` against its machine's real clock instead (ccxt's nonce is the local time).
 * Errors: no account configured −2015, wrong key −2014, missing signature −1102, bad signature −1022, stale timestamp
 * −1021 (HTTP 401 for the key errors, 400 otherwise).
 *
 * What the account does with an order is decided in `sim/account`; the order-path faults (`orderReject`,
 * `orderTimeout`, `orderPartial`, `order429`) are applied here, see `FaultConfig`. Order types: MARKET, LIMIT (GTC
 * only; another `timeInForce` → −1115), STOP_LOSS and TAKE_PROFIT (`stopPrice`; ccxt sends them for
 * `createOrder(symbol, 'market', side, amount, undefined, { stopLossPrice | takeProfitPrice })`); `exchangeInfo`
 * lists only these, so ccxt refuses the others itself (sent anyway: −1116 "Invalid orderType."). `DELETE
 * /api/v3/order` cancels a resting order; for one that has filled, expired or been cancelled it answers −2011
 * "Unknown order sent.", as Binance does.
 *
 * @module
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ACCOUNT_ERRORS, SIMULATED_ORDER_TYPES, type SimAccount, type SimulatedOrder, type SimulatedOrderType } from './account';
import { accountBody, newOrderBody, orderBody, tradeBody } from './account-format';
import type { BinanceError, RestAnswer } from './binance-format';
import { ERRORS } from './binance-format';
import type { FaultInjector } from './faults';

/** The signed endpoints, `<METHOD> <path>`. */
export const SIGNED_ENDPOINTS: readonly string[] = [
  'GET /api/v3/account',
  'POST /api/v3/order',
  'GET /api/v3/order',
  'DELETE /api/v3/order',
  'GET /api/v3/openOrders',
  'GET /api/v3/allOrders',
  'GET /api/v3/myTrades',
];

/** Binance's `newClientOrderId` rule. */
const CLIENT_ORDER_ID = /^[.A-Z:/a-z0-9_-]{1,36}$/;
const DEFAULT_LIMIT = 500;
const MAX_LIMIT = 1000;

const fail = (status: number, error: BinanceError, weight = 1): RestAnswer => ({ status, body: error, weight });
const ok = (body: unknown, weight: number): RestAnswer => ({ status: 200, body, weight });

/** The credentials and account behind the signed endpoints (`null` when the simulator has no `account`). */
export interface DeskAccount {
  readonly apiKey: string;
  readonly secret: string;
  readonly state: SimAccount;
}

/**
 * Answers the signed endpoints of one simulator run: checks the key, signature and timestamp of each request,
 * applies the order-path faults and hands orders and queries to the {@link SimAccount}.
 */
export class OrderDesk {
  constructor(
    private readonly account: DeskAccount | null,
    private readonly faults: FaultInjector,
  ) {}

  /**
   * Answers one signed request.
   *
   * @param endpoint - `<METHOD> <path>`, one of {@link SIGNED_ENDPOINTS}.
   * @param apiKey - the `X-MBX-APIKEY` header.
   * @param payload - the signed parameters (form body, or query string when the body is empty).
   * @param realNow - the machine's clock, UTC epoch ms, against which `timestamp` is checked.
   */
  handle(endpoint: string, apiKey: string | undefined, payload: string, realNow: number = Date.now()): RestAnswer {
    if (this.faults.decideSigned()) {
      this.faults.record('order429');
      return { status: 429, body: ERRORS.tooManyRequests, weight: 0, headers: { 'retry-after': String(this.faults.orderRetryAfterSec()) } };
    }
    const signed = this.authenticate(apiKey, payload, realNow);
    if (!(signed instanceof URLSearchParams)) return signed;
    const account = this.account!.state;
    switch (endpoint) {
      case 'GET /api/v3/account':
        return ok(accountBody(account.balances(), account.commission, account.orders.at(-1)?.transactTime ?? 0), 20);
      case 'POST /api/v3/order':
        return this.newOrder(signed, account);
      case 'GET /api/v3/order':
        return this.queryOrder(signed, account, 4, (o) => ok(orderBody(o), 4), { code: -2013, msg: 'Order does not exist.' });
      case 'DELETE /api/v3/order':
        return this.queryOrder(signed, account, 1, (o) => {
          const result = account.cancelOrder(o.symbol, { orderId: o.orderId });
          return result.ok ? ok({ ...orderBody(result.order), origClientOrderId: o.clientOrderId }, 1) : fail(400, result.error);
        }, ACCOUNT_ERRORS.unknownOrder);
      case 'GET /api/v3/openOrders': {
        const symbol = signed.get('symbol');
        const open = account.orders.filter((o) => (symbol === null || o.symbol === symbol) && (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED'));
        return ok(open.map(orderBody), symbol === null ? 80 : 6);
      }
      case 'GET /api/v3/allOrders':
        return this.list(
          signed,
          (symbol) => account.orders.filter((o) => o.symbol === symbol),
          { id: (o) => o.orderId, time: (o) => o.transactTime, ofOrder: (o, id) => o.orderId >= id },
          orderBody,
        );
      default:
        return this.list(
          signed,
          (symbol) => account.trades.filter((t) => t.symbol === symbol),
          { id: (t) => t.id, time: (t) => t.time, ofOrder: (t, id) => t.orderId === id },
          tradeBody,
        );
    }
  }

  /** The request's parameters when its key, signature and timestamp are good; otherwise Binance's error answer. */
  private authenticate(apiKey: string | undefined, payload: string, realNow: number): URLSearchParams | RestAnswer {
    if (this.account === null) return fail(401, { code: -2015, msg: 'Invalid API-key, IP, or permissions for action.' });
    if (apiKey !== this.account.apiKey) return fail(401, { code: -2014, msg: 'API-key format invalid.' });
    const at = payload.lastIndexOf('signature=');
    if (at < 0 || (at > 0 && payload[at - 1] !== '&')) return fail(400, ERRORS.mandatory('signature'));
    const expected = createHmac('sha256', this.account.secret).update(payload.slice(0, Math.max(0, at - 1))).digest();
    const given = Buffer.from(payload.slice(at + 'signature='.length), 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return fail(400, { code: -1022, msg: 'Signature for this request is not valid.' });
    }
    const params = new URLSearchParams(payload.slice(0, Math.max(0, at - 1)));
    const timestamp = Number(params.get('timestamp'));
    const recvWindow = Number(params.get('recvWindow') ?? 5_000);
    if (!(Math.abs(realNow - timestamp) <= recvWindow)) {
      return fail(400, { code: -1021, msg: 'Timestamp for this request is outside of the recvWindow.' });
    }
    return params;
  }

  private newOrder(params: URLSearchParams, account: SimAccount): RestAnswer {
    const symbol = params.get('symbol');
    if (symbol === null || symbol === '') return fail(400, ERRORS.mandatory('symbol'));
    const side = params.get('side');
    if (side !== 'BUY' && side !== 'SELL') return fail(400, { code: -1117, msg: 'Invalid side.' });
    const type = params.get('type');
    if (!SIMULATED_ORDER_TYPES.some((t) => t === type)) return fail(400, { code: -1116, msg: 'Invalid orderType.' });
    const orderType = type as SimulatedOrderType;
    const clientOrderId = params.get('newClientOrderId') ?? `sim-${account.orders.length + 1}`;
    if (!CLIENT_ORDER_ID.test(clientOrderId)) {
      return fail(400, { code: -1100, msg: "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'." });
    }
    if (orderType === 'LIMIT' && (params.get('timeInForce') ?? 'GTC') !== 'GTC') {
      return fail(400, { code: -1115, msg: 'Invalid timeInForce.' });
    }
    const quantityText = params.get('quantity');
    const quoteText = params.get('quoteOrderQty');
    if (quantityText !== null && quoteText !== null) return fail(400, { code: -1128, msg: 'Combination of optional parameters invalid.' });
    if (quantityText === null && (quoteText === null || orderType !== 'MARKET')) {
      return fail(400, orderType === 'MARKET' ? { code: -1102, msg: "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!" } : ERRORS.mandatory('quantity'));
    }
    const amount = Number(quantityText ?? quoteText);
    if (!(amount > 0)) return fail(400, { code: -1013, msg: quantityText !== null ? 'Invalid quantity.' : 'Invalid quoteOrderQty.' });
    const levelName = orderType === 'LIMIT' ? 'price' : orderType === 'MARKET' ? null : 'stopPrice';
    const level = levelName === null ? 0 : Number(params.get(levelName));
    if (levelName !== null && params.get(levelName) === null) return fail(400, ERRORS.mandatory(levelName));
    const faults = this.faults.decideOrder();
    if (faults.reject) {
      this.faults.record('orderReject');
      return fail(400, { code: -2010, msg: 'Order rejected (simulator fault orderReject).' });
    }
    const result = account.placeOrder(
      {
        symbol,
        side,
        type: orderType,
        clientOrderId,
        ...(quantityText !== null ? { quantity: amount } : { quoteOrderQty: amount }),
        ...(orderType === 'LIMIT' && { price: level }),
        ...((orderType === 'STOP_LOSS' || orderType === 'TAKE_PROFIT') && { stopPrice: level }),
      },
      faults.partial ? { fillFraction: this.faults.orderFillFraction() } : {},
    );
    if (!result.ok) return fail(400, result.error);
    const order = result.order;
    if (order.type === 'MARKET' && order.status === 'EXPIRED') this.faults.record('orderPartial');
    const answer = ok(newOrderResponse(order, account, params.get('newOrderRespType') ?? (orderType === 'MARKET' || orderType === 'LIMIT' ? 'FULL' : 'ACK')), 1);
    if (!faults.timeout) return answer;
    this.faults.record('orderTimeout');
    return { ...answer, answerAfterMs: this.faults.orderAnswerAfterMs() };
  }

  private queryOrder(
    params: URLSearchParams,
    account: SimAccount,
    weight: number,
    found: (order: SimulatedOrder) => RestAnswer,
    missing: BinanceError,
  ): RestAnswer {
    const symbol = params.get('symbol');
    if (symbol === null || symbol === '') return fail(400, ERRORS.mandatory('symbol'), weight);
    const clientOrderId = params.get('origClientOrderId');
    const orderIdText = params.get('orderId');
    if (clientOrderId === null && orderIdText === null) {
      return fail(400, { code: -1102, msg: "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!" }, weight);
    }
    const order = account.findOrder(symbol, clientOrderId !== null ? { clientOrderId } : { orderId: Number(orderIdText) });
    return order === undefined ? fail(400, missing, weight) : found(order);
  }

  /**
   * `allOrders` / `myTrades`: the entries of `symbol`, filtered by `orderId` (orders: id ≥ it, a lower bound; trades:
   * those of that order), `fromId` (trades: id ≥ it, a lower bound), `startTime` (a lower bound) and `endTime`
   * (inclusive, exchange ms); the first `limit` (default 500, at most 1000) when a lower bound is given, otherwise the
   * latest `limit`; oldest first.
   */
  private list<T>(
    params: URLSearchParams,
    entries: (symbol: string) => readonly T[],
    fields: { readonly id: (e: T) => number; readonly time: (e: T) => number; readonly ofOrder: (e: T, orderId: number) => boolean },
    body: (entry: T) => Record<string, unknown>,
  ): RestAnswer {
    const weight = 20;
    const symbol = params.get('symbol');
    if (symbol === null || symbol === '') return fail(400, ERRORS.mandatory('symbol'), weight);
    const numbers = new Map<string, number>();
    for (const name of ['orderId', 'fromId', 'startTime', 'endTime', 'limit']) {
      const text = params.get(name);
      if (text === null) continue;
      if (!/^[0-9]{1,20}$/.test(text)) return fail(400, ERRORS.illegalChars(name), weight);
      numbers.set(name, Number(text));
    }
    const limit = Math.min(numbers.get('limit') ?? DEFAULT_LIMIT, MAX_LIMIT);
    if (limit === 0) return fail(400, ERRORS.invalidValue('limit'), weight);
    const orderId = numbers.get('orderId');
    const fromId = numbers.get('fromId');
    const start = numbers.get('startTime') ?? -Infinity;
    const end = numbers.get('endTime') ?? Infinity;
    const selected = entries(symbol).filter(
      (e) =>
        (orderId === undefined || fields.ofOrder(e, orderId)) &&
        (fromId === undefined || fields.id(e) >= fromId) &&
        fields.time(e) >= start &&
        fields.time(e) <= end,
    );
    const bounded = orderId !== undefined || fromId !== undefined || numbers.has('startTime');
    const page = bounded ? selected.slice(0, limit) : selected.slice(Math.max(0, selected.length - limit));
    return ok(page.map(body), weight);
  }
}

/** The answer of `POST /api/v3/order` for `newOrderRespType` `ACK`, `RESULT` or `FULL` (default). */
function newOrderResponse(order: SimulatedOrder, account: SimAccount, type: string): Record<string, unknown> {
  const full = newOrderBody(order, account.trades.filter((t) => t.orderId === order.orderId));
  if (type === 'ACK') {
    return { symbol: order.symbol, orderId: order.orderId, orderListId: -1, clientOrderId: order.clientOrderId, transactTime: order.transactTime };
  }
  if (type === 'RESULT') {
    const { fills: _fills, ...result } = full;
    return result;
  }
  return full;
}
