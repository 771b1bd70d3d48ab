/**
 * The report's breakdowns of a run beyond its headline metrics, as freqtrade's backtest report and quantstats show
 * them: monthly returns, trade durations, the distribution of trade returns, results by entry tag and by exit reason,
 * the best and worst trade, and the Sharpe ratio of daily returns. Pure functions of the equity curve and the trades.
 * Fractions are plain ratios (`0.12` = 12%), money in quote currency, durations and times in ms (UTC).
 *
 * @module
 */
import type { Trade } from '../broker/types';

const DAY_MS = 86_400_000;

/** The return of one calendar month (UTC): `month` as `YYYY-MM`, `return` a fraction. */
export interface MonthlyReturn {
  readonly month: string;
  readonly return: number;
}

/**
 * Duration statistics of closed trades, in ms; a trade's duration is `exitTime − entryTime` (open times of the
 * candles whose fills opened and closed it). Every field is `null` when there is no such trade.
 */
export interface DurationStats {
  readonly mean: number | null;
  readonly median: number | null;
  readonly min: number | null;
  readonly max: number | null;
  /** Mean duration of the trades with `pnl > 0`. */
  readonly meanWinner: number | null;
  /** Mean duration of the trades with `pnl ≤ 0`. */
  readonly meanLoser: number | null;
}

/** One bin of {@link ReturnDistribution}: trades whose `returnFraction` lies in `[from, to)` (the last bin includes `to`). */
export interface ReturnBin {
  readonly from: number;
  readonly to: number;
  readonly trades: number;
}

/** Trades' net returns (fractions) in equal-width bins from the smallest to the largest return. */
export type ReturnDistribution = readonly ReturnBin[];

/**
 * The trades of one group (an entry tag, or an exit reason): `trades` count, `wins` (`pnl > 0`), `winRate`
 * (`wins / trades`), `pnl` (sum, quote currency), `meanReturn` (mean `returnFraction`), `meanDuration` (ms).
 */
export interface GroupResult {
  readonly key: string;
  readonly trades: number;
  readonly wins: number;
  readonly winRate: number;
  readonly pnl: number;
  readonly meanReturn: number;
  readonly meanDuration: number;
}

/** A trade picked out by the report: its 0-based index in the run's trades, its `returnFraction` and `pnl`. */
export interface NotableTrade {
  readonly index: number;
  readonly returnFraction: number;
  readonly pnl: number;
}

/** Everything {@link computeAnalytics} derives. */
export interface RunAnalytics {
  readonly monthlyReturns: readonly MonthlyReturn[];
  readonly durations: DurationStats;
  readonly returnDistribution: ReturnDistribution;
  /** By the entry signal's tag; trades without one are grouped as `(none)`. Most trades first. */
  readonly byEntryTag: readonly GroupResult[];
  /** By exit reason (`signal`, `stop_loss`, …). Most trades first. */
  readonly byExitReason: readonly GroupResult[];
  /** The trade with the largest / smallest `returnFraction` (the first one on ties); `null` without trades. */
  readonly bestTrade: NotableTrade | null;
  readonly worstTrade: NotableTrade | null;
  /** See {@link dailySharpe}. */
  readonly dailySharpe: number | null;
}

/** Number of bins of {@link RunAnalytics.returnDistribution}. */
export const RETURN_BINS = 10;

/**
 * Computes the {@link RunAnalytics} of a run.
 *
 * @param time - open times of the equity curve's candles (UTC ms), ascending;
 * @param equity - equity marked at each candle's close, same length, at least one row;
 * @param trades - the run's closed trades.
 */
export function computeAnalytics(time: ArrayLike<number>, equity: ArrayLike<number>, trades: readonly Trade[]): RunAnalytics {
  return {
    monthlyReturns: monthlyReturns(time, equity),
    durations: durationStats(trades),
    returnDistribution: returnDistribution(trades),
    byEntryTag: groupTrades(trades, (t) => t.entryTag ?? '(none)'),
    byExitReason: groupTrades(trades, (t) => t.exitReason),
    bestTrade: notable(trades, 1),
    worstTrade: notable(trades, -1),
    dailySharpe: dailySharpe(time, equity),
  };
}

/**
 * The return of each calendar month (UTC) the curve touches: the month's last equity over the previous month's last
 * equity, minus one; the first month is measured from the curve's first row.
 */
export function monthlyReturns(time: ArrayLike<number>, equity: ArrayLike<number>): MonthlyReturn[] {
  const out: MonthlyReturn[] = [];
  if (equity.length === 0) return out;
  let base = equity[0]!;
  let month = monthOf(time[0]!);
  for (let i = 1; i <= equity.length; i++) {
    const next = i < equity.length ? monthOf(time[i]!) : null;
    if (next !== month) {
      const end = equity[i - 1]!;
      out.push({ month, return: end / base - 1 });
      base = end;
      if (next !== null) month = next;
    }
  }
  return out;
}

/**
 * The annualised Sharpe ratio of daily returns, as quantstats computes it on a curve resampled to days: the equity at
 * each UTC day's last candle, simple returns from day to day (the first day from the curve's first row), risk-free
 * rate 0, `mean / sample std × √365` (crypto trades every day). `null` with fewer than two daily returns or a zero
 * deviation.
 */
export function dailySharpe(time: ArrayLike<number>, equity: ArrayLike<number>): number | null {
  const returns: number[] = [];
  if (equity.length === 0) return null;
  let base = equity[0]!;
  for (let i = 1; i <= equity.length; i++) {
    const closesDay = i === equity.length || Math.floor(time[i]! / DAY_MS) !== Math.floor(time[i - 1]! / DAY_MS);
    if (closesDay) {
      const end = equity[i - 1]!;
      if (!(base > 0)) return null;
      returns.push(end / base - 1);
      base = end;
    }
  }
  if (returns.length < 2) return null;
  const mean = returns.reduce((s, r) => s + r, 0) / returns.length;
  const variance = returns.reduce((s, r) => s + (r - mean) ** 2, 0) / (returns.length - 1);
  return variance > 0 ? (mean / Math.sqrt(variance)) * Math.sqrt(365) : null;
}

function durationStats(trades: readonly Trade[]): DurationStats {
  const all = trades.map(duration).sort((a, b) => a - b);
  const n = all.length;
  const median = n === 0 ? null : n % 2 === 1 ? all[(n - 1) / 2]! : (all[n / 2 - 1]! + all[n / 2]!) / 2;
  return {
    mean: mean(all),
    median,
    min: n === 0 ? null : all[0]!,
    max: n === 0 ? null : all[n - 1]!,
    meanWinner: mean(trades.filter((t) => t.pnl > 0).map(duration)),
    meanLoser: mean(trades.filter((t) => !(t.pnl > 0)).map(duration)),
  };
}

function returnDistribution(trades: readonly Trade[]): ReturnDistribution {
  if (trades.length === 0) return [];
  let lo = Infinity;
  let hi = -Infinity;
  for (const t of trades) {
    lo = Math.min(lo, t.returnFraction);
    hi = Math.max(hi, t.returnFraction);
  }
  if (lo === hi) return [{ from: lo, to: hi, trades: trades.length }];
  const width = (hi - lo) / RETURN_BINS;
  const counts = new Array<number>(RETURN_BINS).fill(0);
  for (const t of trades) counts[Math.min(RETURN_BINS - 1, Math.floor((t.returnFraction - lo) / width))]! += 1;
  return counts.map((count, i) => ({ from: lo + i * width, to: i === RETURN_BINS - 1 ? hi : lo + (i + 1) * width, trades: count }));
}

function groupTrades(trades: readonly Trade[], keyOf: (t: Trade) => string): GroupResult[] {
  const groups = new Map<string, Trade[]>();
  for (const t of trades) {
    const key = keyOf(t);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [t]);
    else group.push(t);
  }
  return [...groups]
    .map(([key, group]) => {
      const wins = group.filter((t) => t.pnl > 0).length;
      return {
        key,
        trades: group.length,
        wins,
        winRate: wins / group.length,
        pnl: group.reduce((s, t) => s + t.pnl, 0),
        meanReturn: group.reduce((s, t) => s + t.returnFraction, 0) / group.length,
        meanDuration: group.reduce((s, t) => s + duration(t), 0) / group.length,
      };
    })
    .sort((a, b) => b.trades - a.trades || a.key.localeCompare(b.key));
}

function notable(trades: readonly Trade[], sign: 1 | -1): NotableTrade | null {
  let best = -1;
  for (let i = 0; i < trades.length; i++) {
    if (best < 0 || sign * trades[i]!.returnFraction > sign * trades[best]!.returnFraction) best = i;
  }
  return best < 0 ? null : { index: best, returnFraction: trades[best]!.returnFraction, pnl: trades[best]!.pnl };
}

function duration(t: Trade): number {
  return t.exitTime - t.entryTime;
}

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((s, v) => s + v, 0) / values.length;
}

function monthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}
