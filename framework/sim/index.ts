/**
 * The Binance-compatible exchange simulator: {@link startSimulator} plays stored candles over REST and WebSocket on
 * 127.0.0.1 with fault injection; {@link connectCcxt} points a real ccxt.pro binance at it. With `config.account` it
 * also keeps a spot account behind Binance's signed endpoints ({@link SimAccount}: balances, MARKET orders by client
 * order id, my-trades, order-path faults, hand trades).
 *
 * @module
 */

export { startSimulator, Simulator } from './simulator';
export type { SimulatorStats, SimulatorRevision } from './simulator';
export { connectCcxt } from './ccxt-client';
export { SimAccount, SimulatorAccountError } from './account';
export type { SimulatorAccount, SimulatedOrder, SimulatedTrade, SimulatedOrderStatus, AssetBalance } from './account';
export type { ProBinance, SimulatorEndpoints } from './ccxt-client';
export { SimulatorConfigError, FAULT_KINDS, MALFORMED_KINDS, SUPPORTED_INTERVALS } from './config';
export type { SimulatorConfig, SimulatedMarket, FaultConfig, FaultTrigger, FaultKind, MalformedKind } from './config';
