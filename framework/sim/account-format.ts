/**
 * Binance spot wire formats of the simulator's account: the order objects of `POST/GET/DELETE /api/v3/order`,
 * `openOrders` and `allOrders`, the `myTrades` entries and the `GET /api/v3/account` body. Field names, order and
 * 8-decimal strings as in Binance's `rest-api.md` ("Account endpoints", "Trading endpoints"); they are what ccxt's
 * `binance.parseOrder`, `parseTrade` and `parseBalance` read.
 *
 * @module
 */
import type { AssetBalance, SimulatedOrder, SimulatedTrade } from './account';
import { decimal8 } from './binance-format';

/** The order as `GET /api/v3/order`, `openOrders` and `allOrders` list it. */
export function orderBody(o: SimulatedOrder): Record<string, unknown> {
  return {
    symbol: o.symbol,
    orderId: o.orderId,
    orderListId: -1,
    clientOrderId: o.clientOrderId,
    price: decimal8(o.limitPrice),
    origQty: decimal8(o.quantity),
    executedQty: decimal8(o.executedQuantity),
    cummulativeQuoteQty: decimal8(o.quoteQuantity),
    status: o.status,
    timeInForce: 'GTC',
    type: o.type,
    side: o.side,
    stopPrice: decimal8(o.stopPrice),
    icebergQty: decimal8(0),
    time: o.transactTime,
    updateTime: o.updateTime,
    isWorking: true,
    workingTime: o.transactTime,
    origQuoteOrderQty: decimal8(o.quoteOrderQuantity),
    selfTradePreventionMode: 'EXPIRE_MAKER',
  };
}

/** The `FULL` answer of `POST /api/v3/order` (ccxt asks for `newOrderRespType=FULL`): the order with its fills. */
export function newOrderBody(o: SimulatedOrder, fills: readonly SimulatedTrade[]): Record<string, unknown> {
  return {
    symbol: o.symbol,
    orderId: o.orderId,
    orderListId: -1,
    clientOrderId: o.clientOrderId,
    transactTime: o.transactTime,
    price: decimal8(o.limitPrice),
    origQty: decimal8(o.quantity),
    executedQty: decimal8(o.executedQuantity),
    origQuoteOrderQty: decimal8(o.quoteOrderQuantity),
    cummulativeQuoteQty: decimal8(o.quoteQuantity),
    status: o.status,
    timeInForce: 'GTC',
    type: o.type,
    side: o.side,
    ...(o.stopPrice > 0 && { stopPrice: decimal8(o.stopPrice) }),
    workingTime: o.transactTime,
    fills: fills.map((t) => ({
      price: decimal8(t.price),
      qty: decimal8(t.quantity),
      commission: decimal8(t.commission),
      commissionAsset: t.commissionAsset,
      tradeId: t.id,
    })),
    selfTradePreventionMode: 'EXPIRE_MAKER',
  };
}

/** A `GET /api/v3/myTrades` entry (`isMaker` false: the simulator does not tell maker from taker fills). */
export function tradeBody(t: SimulatedTrade): Record<string, unknown> {
  return {
    symbol: t.symbol,
    id: t.id,
    orderId: t.orderId,
    orderListId: -1,
    price: decimal8(t.price),
    qty: decimal8(t.quantity),
    quoteQty: decimal8(t.quoteQuantity),
    commission: decimal8(t.commission),
    commissionAsset: t.commissionAsset,
    time: t.time,
    isBuyer: t.side === 'BUY',
    isMaker: false,
    isBestMatch: true,
  };
}

/** The `GET /api/v3/account` body; `commission` is the fraction charged (Binance states rates as decimal strings). */
export function accountBody(balances: ReadonlyMap<string, AssetBalance>, commission: number, updateTime: number): Record<string, unknown> {
  const rate = commission.toFixed(8);
  const bps = Math.round(commission * 10_000);
  return {
    makerCommission: bps,
    takerCommission: bps,
    buyerCommission: 0,
    sellerCommission: 0,
    commissionRates: { maker: rate, taker: rate, buyer: decimal8(0), seller: decimal8(0) },
    canTrade: true,
    canWithdraw: false,
    canDeposit: false,
    brokered: false,
    requireSelfTradePrevention: false,
    preventSor: false,
    updateTime,
    accountType: 'SPOT',
    balances: [...balances].map(([asset, b]) => ({ asset, free: decimal8(b.free), locked: decimal8(b.locked) })),
    permissions: ['SPOT'],
    uid: 1,
  };
}
