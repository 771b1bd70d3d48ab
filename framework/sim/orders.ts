/**
 * The simulator's spot order endpoint: `POST /api/v3/order`, signed the way Binance signs private requests, filling
 * MARKET orders at the traded market's latest price. Enough of Binance for ccxt's `createOrder` and for testing that
 * an order path signs its requests and never leaks its keys.
 *
 * Binance's rules followed (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security):
 * the `X-MBX-APIKEY` header carries the API key; the parameters (query string or form body) end with `signature`,
 * the hex HMAC-SHA256 of everything before it keyed with the secret; `timestamp` must be within `recvWindow`
 * (default 5,000 ms) of the server's clock. The simulator's exchange clock runs `speed` times faster than real time,
 * so it checks `timestamp` against its machine's real clock instead: a window of real milliseconds, as a client on
 * that machine signs with (ccxt's nonce is the local time).
 *
 * @module
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { klineAt, stepAt, visibleCount, type MarketTape } from './tape';

/** The API key and secret the simulator accepts. */
export interface SimulatorAccount {
  readonly apiKey: string;
  readonly secret: string;
}

/** An order the simulator filled: what it was asked and how it answered. Prices in quote currency, `quantity` in base. */
export interface SimulatedOrder {
  readonly orderId: number;
  readonly symbol: string;
  readonly side: 'BUY' | 'SELL';
  readonly quantity: number;
  readonly price: number;
  readonly transactTime: number;
}

/** A Binance REST answer. */
export interface OrderAnswer {
  readonly status: number;
  readonly body: unknown;
}

const error = (status: number, code: number, msg: string): OrderAnswer => ({ status, body: { code, msg } });

/**
 * The order book of one simulator run: checks each request's key and signature and fills MARKET orders.
 */
export class OrderDesk {
  readonly orders: SimulatedOrder[] = [];
  readonly #account: SimulatorAccount | null;
  readonly #tapes: readonly MarketTape[];

  constructor(account: SimulatorAccount | null, tapes: readonly MarketTape[]) {
    this.#account = account;
    this.#tapes = tapes;
  }

  /**
   * Answers `POST /api/v3/order`.
   *
   * @param apiKey - the `X-MBX-APIKEY` header.
   * @param payload - the signed parameters (form body, or query string when the body is empty).
   * @param now - the exchange clock, UTC epoch ms: the fill's `transactTime` and the price it fills at.
   * @param realNow - the machine's clock, UTC epoch ms, against which `timestamp` is checked.
   */
  placeOrder(apiKey: string | undefined, payload: string, now: number, realNow: number = Date.now()): OrderAnswer {
    if (this.#account === null) return error(401, -2015, 'Invalid API-key, IP, or permissions for action.');
    if (apiKey !== this.#account.apiKey) return error(401, -2014, 'API-key format invalid.');
    const at = payload.lastIndexOf('&signature=');
    if (at < 0) return error(400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.");
    const expected = createHmac('sha256', this.#account.secret).update(payload.slice(0, at)).digest();
    const given = Buffer.from(payload.slice(at + '&signature='.length), 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return error(400, -1022, 'Signature for this request is not valid.');
    }
    const params = new URLSearchParams(payload.slice(0, at));
    const timestamp = Number(params.get('timestamp'));
    const recvWindow = Number(params.get('recvWindow') ?? 5_000);
    if (!(Math.abs(realNow - timestamp) <= recvWindow)) {
      return error(400, -1021, 'Timestamp for this request is outside of the recvWindow.');
    }
    const tape = this.#tapes.find((t) => t.id === params.get('symbol'));
    if (tape === undefined) return error(400, -1121, 'Invalid symbol.');
    const side = params.get('side');
    const quantity = Number(params.get('quantity'));
    if (params.get('type') !== 'MARKET') return error(400, -1116, 'Invalid orderType.');
    if (side !== 'BUY' && side !== 'SELL') return error(400, -1117, 'Invalid side.');
    if (!(quantity > 0)) return error(400, -1013, 'Invalid quantity.');
    const visible = visibleCount(tape, now);
    if (visible === 0) return error(400, -2010, 'Market is closed.');
    const price = klineAt(tape, visible - 1, stepAt(tape, visible - 1, now), false).close;
    const order: SimulatedOrder = { orderId: this.orders.length + 1, symbol: tape.id, side, quantity, price, transactTime: now };
    this.orders.push(order);
    const qty = quantity.toFixed(8);
    return {
      status: 200,
      body: {
        symbol: tape.id,
        orderId: order.orderId,
        orderListId: -1,
        clientOrderId: params.get('newClientOrderId') ?? `sim${order.orderId}`,
        transactTime: now,
        price: '0.00000000',
        origQty: qty,
        executedQty: qty,
        cummulativeQuoteQty: (quantity * price).toFixed(8),
        status: 'FILLED',
        timeInForce: 'GTC',
        type: 'MARKET',
        side,
        fills: [{ price: price.toFixed(8), qty, commission: '0.00000000', commissionAsset: tape.quote, tradeId: order.orderId }],
      },
    };
  }
}
