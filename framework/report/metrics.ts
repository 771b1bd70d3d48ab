import { tallyTrades, type TradeTally } from '../broker/trade-tally';
import type { Trade } from '../broker/types';
import { FrameworkError } from '../core/errors';
import { timeframeGrid, type Timeframe } from '../core/timeframe';

/** Milliseconds in a year of 365 days, the year used by {@link computeMetrics} for CAGR and annualisation. */
export const YEAR_MS = 365 * 24 * 3600 * 1000;

/**
 * Input of {@link computeMetrics}.
 *
 * - `equity`, `time`: the equity curve (quote currency) marked at each candle's close, and each candle's open time
 *   (UTC epoch ms), same length ≥ 1, in time order (e.g. the columns of
 *   {@link "broker/equity-curve"!EquityCurve | EquityCurve});
 * - `timeframe`: the candles' timeframe, e.g. `1h`;
 * - `trades`: closed trades of the run, or their {@link "broker/trade-tally"!TradeTally | TradeTally} (a broker that
 *   keeps no trades tallies them as they close);
 * - `firstOpen`: open price of the first candle, `lastClose`: close price of the last candle (quote currency),
 *   for the buy-and-hold benchmark;
 * - `exposedCandles`: candles during which a position was open
 *   ({@link "broker/paper-broker"!PaperBroker.exposedCandles | PaperBroker.exposedCandles}).
 */
export interface MetricsInput {
  readonly equity: ArrayLike<number>;
  readonly time: ArrayLike<number>;
  readonly timeframe: Timeframe;
  readonly trades: readonly Trade[] | TradeTally;
  readonly firstOpen: number;
  readonly lastClose: number;
  readonly exposedCandles: number;
}

/**
 * Performance of a run. Fractions are plain ratios (`0.12` = 12%), money is in quote currency, durations in ms.
 * `null` marks a value that is undefined for the run (e.g. a ratio whose denominator is zero, or no trades).
 *
 * - `startEquity`, `endEquity`: first and last value of the equity curve (quote currency);
 * - `totalReturn`: `endEquity / startEquity − 1` (fraction);
 * - `cagr`: compound annual growth rate, `(endEquity / startEquity)^(1 / years) − 1` (fraction), where
 *   `years = (last open time + timeframe − first open time) / 365 days`; −1 when equity ends ≤ 0;
 * - `sharpe`: annualised Sharpe ratio of the per-candle simple returns of equity, risk-free rate 0:
 *   `mean(r) / std(r) × √(candles per year)`, `std` the sample standard deviation (n − 1);
 *   `null` with fewer than 2 returns, zero deviation, or equity ≤ 0 at some candle;
 * - `sortino`: annualised Sortino ratio, target 0: `mean(r) / √(mean(min(r, 0)²)) × √(candles per year)`, the
 *   downside deviation taken over *all* returns; `null` with no downside, no returns, equity ≤ 0 at some candle, or a
 *   return of NaN or +Infinity (an equity of NaN or +Infinity);
 * - `calmar`: `cagr / maxDrawdown`; `null` when there is no drawdown;
 * - `maxDrawdown`: largest peak-to-trough fall of equity as a positive fraction of the peak (`0.25` = 25% below it);
 * - `maxDrawdownDuration`: longest time under water (ms): from a peak's candle to the candle where equity first gets
 *   back to that peak, or to the last candle when it never does;
 * - `trades`: number of closed trades; `winRate`: fraction with `pnl > 0` (`null` with no trades);
 * - `profitFactor`: gross profit / gross loss of trade `pnl`s; `Infinity` with profits and no losses, `null` with
 *   no trades (or neither profit nor loss);
 * - `expectancy`: mean net `pnl` per trade (quote currency); `expectancyFraction`: mean `returnFraction` (a fraction: 0.01 = 1%);
 *   both `null` with no trades;
 * - `exposure`: fraction of candles during which a position was open;
 * - `buyAndHoldReturn`: `lastClose / firstOpen − 1` (fraction), holding the asset over the run, before fees.
 *
 * `candles per year` = 365 × 24 × 3600 × 1000 / timeframe in ms (8760 for `1h`, 52.14 for `1w`; 12 for `1M`, a month counting
 * as a twelfth of the year).
 */
export interface Metrics {
  readonly startEquity: number;
  readonly endEquity: number;
  readonly totalReturn: number;
  readonly cagr: number;
  readonly sharpe: number | null;
  readonly sortino: number | null;
  readonly calmar: number | null;
  readonly maxDrawdown: number;
  readonly maxDrawdownDuration: number;
  readonly trades: number;
  readonly winRate: number | null;
  readonly profitFactor: number | null;
  readonly expectancy: number | null;
  readonly expectancyFraction: number | null;
  readonly exposure: number;
  readonly buyAndHoldReturn: number;
}

/**
 * Computes the {@link Metrics} of a run. Pure: reads its input only.
 *
 * Sharpe and Sortino are computed as `sharpe` and `sortino` of the Python `quantstats` package
 * (ranaroussi/quantstats, `quantstats/stats.py`) with `rf = 0` and `periods` = candles per year.
 * Sharpe: W. F. Sharpe, "The Sharpe Ratio", Journal of Portfolio Management, 1994; annualised by √(periods per year),
 * which assumes independent returns (A. W. Lo, "The Statistics of Sharpe Ratios", Financial Analysts Journal, 2002).
 * Sortino: downside deviation against a target of 0 over all observations, as in T. Rollinger and S. Hoffman,
 * "Sortino: A 'Sharper' Ratio", Red Rock Capital (the paper quantstats cites).
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} when the curve is empty, `equity` and `time` differ in
 *   length, or `exposedCandles` is outside [0, candles].
 */
export function computeMetrics(input: MetricsInput): Metrics {
  return computeMetricsAndMoments(input).metrics;
}

/**
 * Mean, standard deviation (n − 1), skewness and kurtosis (not excess: 3 for a normal) of the per-candle simple
 * returns of an equity curve (`equity[i] / equity[i − 1] − 1`, `count` of them); skewness and kurtosis use the
 * population moments (`m3 / m2^1.5`, `m4 / m2²`), as Bailey & López de Prado's deflated Sharpe ratio does. `std` 0,
 * skewness 0 and kurtosis 3 when there are fewer than two returns or no dispersion; `mean` 0 with no return.
 */
export interface ReturnMoments {
  readonly count: number;
  readonly mean: number;
  readonly std: number;
  readonly skewness: number;
  readonly kurtosis: number;
}

/** A run's {@link Metrics} and the {@link ReturnMoments} of the same returns (those its Sharpe ratio reads). */
export interface MetricsAndMoments {
  readonly metrics: Metrics;
  readonly moments: ReturnMoments;
}

/**
 * {@link computeMetrics}, and the moments of the same per-candle returns from the same passes over the equity curve
 * (an optimisation trial needs both: a third and fourth pass of their own cost about 4 ms per million candles).
 *
 * @throws as {@link computeMetrics}.
 */
export function computeMetricsAndMoments(input: MetricsInput): MetricsAndMoments {
  const { equity, time, trades } = input;
  const n = equity.length;
  if (n === 0) throw new FrameworkError('cannot compute metrics: the equity curve is empty (no candles)');
  if (time.length !== n) {
    throw new FrameworkError(`cannot compute metrics: equity has ${n} rows but time has ${time.length}`);
  }
  if (!(input.exposedCandles >= 0 && input.exposedCandles <= n)) {
    throw new FrameworkError(`cannot compute metrics: exposedCandles ${input.exposedCandles} is outside [0, ${n}]`);
  }
  const grid = timeframeGrid(input.timeframe);
  const startEquity = equity[0]!;
  const endEquity = equity[n - 1]!;
  const years = (grid.nextOpen(time[n - 1]!) - time[0]!) / YEAR_MS;
  const cagr = endEquity > 0 && startEquity > 0 ? (endEquity / startEquity) ** (1 / years) - 1 : -1;
  const statistics = curveStatistics(equity, time, Math.sqrt(YEAR_MS / grid.nominalMs));
  lastStatistics.last = statistics;
  const { ratios, drawdown, moments } = statistics;
  const metrics: Metrics = {
    startEquity,
    endEquity,
    totalReturn: endEquity / startEquity - 1,
    cagr,
    sharpe: ratios.sharpe,
    sortino: ratios.sortino,
    calmar: drawdown.max > 0 ? cagr / drawdown.max : null,
    maxDrawdown: drawdown.max,
    maxDrawdownDuration: drawdown.longest,
    ...tradeStats(Array.isArray(trades) ? tallyTrades(trades) : (trades as TradeTally)),
    exposure: input.exposedCandles / n,
    buyAndHoldReturn: input.lastClose / input.firstOpen - 1,
  };
  return { metrics, moments };
}

/**
 * The last intermediate results of {@link computeMetrics}, kept only so that their hidden classes (V8 maps) outlive a
 * full garbage collection between two optimisation trials (see `lastTrial` in `optimize/trial.ts`).
 */
const lastStatistics: { last: CurveStatistics | null } = { last: null };

/** What {@link curveStatistics} gives. */
interface CurveStatistics {
  readonly ratios: ReturnRatios;
  readonly drawdown: Drawdown;
  readonly moments: ReturnMoments;
}

/** Annualised Sharpe and Sortino ratios of the per-candle returns (see {@link Metrics}). */
interface ReturnRatios {
  readonly sharpe: number | null;
  readonly sortino: number | null;
}

/** The largest drawdown (a fraction of the peak) and the longest time under water (ms). */
interface Drawdown {
  readonly max: number;
  readonly longest: number;
}

/**
 * The return ratios, the drawdown and the return moments of an equity curve in two passes over it (an optimisation
 * trial's metrics read a million rows): the first sums the returns and their downside squares and follows the
 * drawdown, the second sums the deviations from the mean squared, cubed and to the fourth power. Each sum adds the
 * same terms in the same order as a pass of its own would.
 *
 * Written to spare the processor unpredictable branches (a return's sign changes from one candle to the next): the
 * downside square of every return is added, `min(r, 0)²` computed as `((r − |r|) / 2)²` (exactly `r²` for a negative
 * return, `+0` otherwise, which leaves the sum's bits unchanged), and a new largest drawdown is kept with a comparison
 * that is rarely true. A return of NaN or +Infinity makes the Sortino ratio null (it was NaN or skipped before; a
 * summary file wrote NaN as null either way), as it makes the Sharpe ratio.
 */
function curveStatistics(
  equity: ArrayLike<number>,
  time: ArrayLike<number>,
  annualise: number,
): CurveStatistics {
  const count = equity.length - 1;
  let positive = true;
  let sum = 0;
  let downsideSquares = 0;
  let peak = equity[0]!;
  let peakTime = time[0]!;
  let underwater = false;
  let max = 0;
  let longest = 0;
  for (let i = 1; i <= count; i++) {
    const previous = equity[i - 1]!;
    const e = equity[i]!;
    positive = positive && previous > 0;
    const r = e / previous - 1;
    sum += r;
    const downside = (r - Math.abs(r)) * 0.5;
    downsideSquares += downside * downside;
    if (e >= peak) {
      if (underwater) longest = Math.max(longest, time[i]! - peakTime);
      underwater = false;
      peak = e;
      peakTime = time[i]!;
    } else {
      underwater = true;
      const fall = 1 - e / peak;
      if (fall > max || fall !== fall) max = fall; // Math.max(max, fall): max is never −0
    }
  }
  if (underwater) longest = Math.max(longest, time[count]! - peakTime);
  const drawdown = { max, longest };
  const mean = count > 0 ? sum / count : 0;
  let squares = 0;
  let cubes = 0;
  let fourths = 0;
  for (let i = 1; i <= count; i++) {
    const d = equity[i]! / equity[i - 1]! - 1 - mean;
    const d2 = d * d;
    squares += d2;
    cubes += d2 * d;
    fourths += d2 * d2;
  }
  const moments = returnMoments(count, mean, squares, cubes, fourths);
  if (!positive || count < 1) return { ratios: { sharpe: null, sortino: null }, drawdown, moments };
  const { std } = moments; // 0 with fewer than two returns or no dispersion: no Sharpe ratio
  const downside = Math.sqrt(downsideSquares / count);
  return {
    ratios: {
      sharpe: std > 0 ? (mean / std) * annualise : null,
      sortino: downside > 0 ? (mean / downside) * annualise : null,
    },
    drawdown,
    moments,
  };
}

/** {@link ReturnMoments} from the sums of the returns' deviations from their mean to the 2nd, 3rd and 4th power. */
function returnMoments(count: number, mean: number, squares: number, cubes: number, fourths: number): ReturnMoments {
  if (count < 2 || !(squares > 0)) return { count, mean, std: 0, skewness: 0, kurtosis: 3 };
  const [p2, p3, p4] = [squares / count, cubes / count, fourths / count];
  return { count, mean, std: Math.sqrt(squares / (count - 1)), skewness: p3 / p2 ** 1.5, kurtosis: p4 / (p2 * p2) };
}

function tradeStats(tally: TradeTally): Pick<Metrics, 'trades' | 'winRate' | 'profitFactor' | 'expectancy' | 'expectancyFraction'> {
  const { count, wins, grossProfit, grossLoss, pnl, returns } = tally;
  if (count === 0) return { trades: 0, winRate: null, profitFactor: null, expectancy: null, expectancyFraction: null };
  const profitFactor = grossLoss > 0 ? grossProfit / grossLoss : grossProfit > 0 ? Number.POSITIVE_INFINITY : null;
  return { trades: count, winRate: wins / count, profitFactor, expectancy: pnl / count, expectancyFraction: returns / count };
}

/** Shortest metric span (ms) over which {@link annualisationWarning} stays silent: 30 days. */
export const MIN_ANNUALISED_SPAN_MS = 30 * 24 * 3600 * 1000;

/**
 * A warning for the reader when the metrics cover less than {@link MIN_ANNUALISED_SPAN_MS}: CAGR, Sharpe, Sortino and
 * Calmar extrapolate a few candles to a year and mean little then (a 25-candle run can show a Sharpe of −34 and a CAGR
 * of −100%).
 *
 * @param spanMs - time the metrics cover: last candle's open time + timeframe − first candle's open time.
 * @param candles - candles the metrics cover.
 * @returns the warning (one sentence), or null when the span is long enough.
 */
export function annualisationWarning(spanMs: number, candles: number): string | null {
  if (spanMs >= MIN_ANNUALISED_SPAN_MS) return null;
  const days = spanMs / (24 * 3600 * 1000);
  return (
    `The metrics cover only ${candles} candles (${days < 1 ? days.toFixed(2) : days.toFixed(1)} days): annualised figures ` +
    '(CAGR, Sharpe, Sortino, Calmar) extrapolate them to a year and mean little over less than 30 days.'
  );
}
