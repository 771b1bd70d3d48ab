/**
 * The baseline of the optimisation case: `strategies/macd.ts` written by hand over `Float64Array`s, with no framework:
 * MACD 12/26/9 from three exponential averages seeded as technicalindicators' EMA seeds them (the simple average of
 * the first `period` values), a crossing of the histogram above zero enters long with all equity at the next open, a
 * crossing below exits at the next open, 0.1% fee per fill, signals ignored during the 400-candle warm-up, equity marked
 * at every close, any position closed at the last close; then the Sharpe ratio of the per-candle returns.
 *
 * @module
 */
import type { CandleBatch } from '../framework/core/candle';

/** What one loop computed: closed trades, final equity (quote currency), Sharpe per candle, and its time. */
export interface LoopRun {
  readonly trades: number;
  readonly endEquity: number;
  readonly sharpePerCandle: number;
  readonly ms: number;
}

/** EMA of `values` (NaN inputs skipped) into `out`: NaN until `period` values were seen, seeded with their mean. */
function ema(values: Float64Array, period: number, out: Float64Array): void {
  const k = 2 / (period + 1);
  let seen = 0;
  let sum = 0;
  let previous = Number.NaN;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) {
      out[i] = Number.NaN;
      continue;
    }
    seen++;
    if (seen < period) {
      sum += v;
      out[i] = Number.NaN;
    } else if (seen === period) {
      previous = (sum + v) / period;
      out[i] = previous;
    } else {
      previous = (v - previous) * k + previous;
      out[i] = previous;
    }
  }
}

/** Runs the hand-written MACD crossover backtest over `candles`. */
export function macdLoop(candles: CandleBatch, fast = 12, slow = 26, signal = 9, warmup = 400, fee = 0.001): LoopRun {
  const t0 = performance.now();
  const { open, close } = candles;
  const n = close.length;
  const fastEma = new Float64Array(n);
  const slowEma = new Float64Array(n);
  const macd = new Float64Array(n);
  const signalLine = new Float64Array(n);
  ema(close, fast, fastEma);
  ema(close, slow, slowEma);
  for (let i = 0; i < n; i++) macd[i] = fastEma[i]! - slowEma[i]!;
  ema(macd, signal, signalLine);
  const equity = new Float64Array(n);
  let cash = 10_000;
  let quantity = 0;
  let pending = 0; // +1 enter, −1 exit at the next open
  let trades = 0;
  let previousHist = Number.NaN;
  for (let i = 0; i < n; i++) {
    if (pending === 1 && quantity === 0) {
      quantity = cash / (open[i]! * (1 + fee));
      cash = 0;
    } else if (pending === -1 && quantity > 0) {
      cash = quantity * open[i]! * (1 - fee);
      quantity = 0;
      trades++;
    }
    pending = 0;
    const hist = macd[i]! - signalLine[i]!;
    if (i >= warmup) {
      if (previousHist <= 0 && hist > 0) pending = 1;
      else if (previousHist >= 0 && hist < 0) pending = -1;
    }
    previousHist = hist;
    equity[i] = cash + quantity * close[i]!;
  }
  if (quantity > 0) {
    cash = quantity * close[n - 1]! * (1 - fee);
    equity[n - 1] = cash;
    trades++;
  }
  let sum = 0;
  for (let i = 1; i < n; i++) sum += equity[i]! / equity[i - 1]! - 1;
  const mean = sum / (n - 1);
  let squares = 0;
  for (let i = 1; i < n; i++) squares += (equity[i]! / equity[i - 1]! - 1 - mean) ** 2;
  const sharpePerCandle = mean / Math.sqrt(squares / (n - 2));
  const run: LoopRun = { trades, endEquity: cash, sharpePerCandle, ms: performance.now() - t0 };
  lastRun.run = run;
  return run;
}

/**
 * The last run's result, kept until the next: otherwise a full collection between two runs (the bench's optimisation
 * case makes two) freed every object with the result's hidden class, V8 dropped the feedback of the object literal, and
 * each run deoptimised at its `return` ("Insufficient type feedback for generic named access") and was compiled again
 * in the next: 5 to 8 ms of CPU per run (on the main thread with `--single-threaded`), whatever the candle count.
 */
const lastRun: { run: LoopRun | null } = { run: null };
