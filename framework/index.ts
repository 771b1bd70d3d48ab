/**
 * The public API for strategy authors: everything a `strategies/*.ts` plugin imports.
 *
 * ```ts
 * import { BaseStrategy, alignToCandles, type Candle, type DataFrame, type Frame, type Signal } from '../framework';
 * ```
 *
 * @module
 */
export type { DataFrame } from 'danfojs-node';
export type { Candle } from './core/candle';
export type { Subscription } from './core/subscription';
export type { Timeframe } from './core/timeframe';
export { BaseStrategy, type ParameterValue, type StrategyParameters } from './strategy/base-strategy';
export { ColumnStrategy, type CandleColumns, type IndicatorColumns } from './strategy/column-strategy';
export { Frame } from './strategy/frame';
export { choice, float, int, type ParameterRange, type SearchSpace } from './strategy/parameters';
export { alignFieldsToCandles, alignToCandles, ema, streamToCandles, type StreamingIndicator } from './strategy/indicators';
export { newColumn } from './strategy/column-pool';
export type { PositionSize, Signal, SignalAction } from './strategy/signal';
export type { AccountView, OpenOrderView, PositionView } from './strategy/account';
