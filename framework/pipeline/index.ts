/**
 * The candle pipeline shared by the historical replay and the live feed:
 * normalise → validate → order → de-duplicate → detect gaps, plus opt-in gap filling, continuity reports and
 * resampling to coarser timeframes.
 *
 * @module
 */
export { normalizeCandle, type RawCandle } from './normalize';
export { candleProblem, ohlcvValidator, type OhlcvCheck } from './validate';
export { describeGap, findGaps, type Gap } from './gaps';
export { processCandles, type PipelineOptions, type PipelineResult, type Rejection } from './pipeline';
export { fillGaps, type FillPolicy } from './fill';
export { formatContinuityReport, verifyCandles, type ContinuityReport } from './verify';
export { resampleCandles } from './resample';
