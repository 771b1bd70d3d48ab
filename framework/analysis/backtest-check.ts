/**
 * The lookahead check every `npm run backtest` runs by itself, and its report.
 *
 * @module
 */
import { batchLength } from '../core/candle';
import { isoUtc } from '../core/time';
import type { BacktestResult } from '../engine/backtest';
import type { Signal } from '../strategy/signal';
import { sampledLookahead, signalsOf, type LookaheadResult } from './lookahead';

/** The outcome of {@link checkBacktest}: the analysis and what it cost (ms of wall-clock time). */
export interface BacktestCheck {
  readonly lookahead: LookaheadResult;
  readonly ms: number;
}

/**
 * Runs {@link sampledLookahead} on a finished backtest: its own replay is the full one, the truncated replays (each on
 * a fresh strategy instance) cover together at most `budget` of its candles (default 0.2: at most about a fifth of
 * the run's time).
 *
 * A backtest of a single candle has nothing to cut: no bias, no truncated replays.
 *
 * @throws as {@link sampledLookahead} (a strategy failing on a truncated history).
 */
export async function checkBacktest(result: BacktestResult, budget = 0.2): Promise<BacktestCheck> {
  const started = performance.now();
  if (batchLength(result.candles) < 2) {
    // Nothing to cut: a history of one candle has no later candle to leave out.
    return { lookahead: { biased: false, cuts: [], columns: [], signals: { checked: 0, differing: [] } }, ms: 0 };
  }
  const lookahead = await sampledLookahead(
    result.strategy,
    result.summary.strategy.name,
    result.candles,
    { columns: result.indicators, signals: signalsOf(result.engine.journal) },
    { budget, informative: result.informative },
  );
  return { lookahead, ms: performance.now() - started };
}

/**
 * The check's report, as lines: one line when no bias was found (truncated replays, time and share of the backtest's
 * time); when biased, a loud header, then each biased column with its first differing candle (both values and the cut
 * that showed it) and the first differing signals.
 *
 * @param backtestMs - the backtest's own wall-clock time, for the share.
 */
export function formatBacktestCheck(check: BacktestCheck, backtestMs: number): string[] {
  const { lookahead, ms } = check;
  const cost = `${(ms / 1000).toFixed(2)} s, ${Math.round((100 * ms) / backtestMs)}% of the backtest`;
  if (!lookahead.biased) {
    return [`lookahead check: ${lookahead.cuts.length} truncated replays, no lookahead bias found (${cost})`];
  }
  const lines = [
    `LOOKAHEAD BIAS: this backtest used candles it could not have seen live; its results cannot be trusted ` +
      `(${lookahead.cuts.length} truncated replays compared bit for bit with the run, ${cost})`,
  ];
  for (const column of lookahead.columns) {
    const d = column.firstDifference;
    if (d === undefined) continue;
    lines.push(
      `  column "${column.name}": at ${isoUtc(d.openTime)} it is ${d.full} over the whole history but ${d.truncated} ` +
        `with the history cut at ${isoUtc(d.cutOpenTime)}`,
    );
  }
  const { differing } = lookahead.signals;
  if (differing.length > 0) {
    const d = differing[0]!;
    lines.push(
      `  signals: ${differing.length} differ; first at ${isoUtc(d.openTime)}: ${describe(d.full)} over the whole history, ` +
        `${describe(d.truncated)} with the history cut at ${isoUtc(d.cutOpenTime)}` +
        (lookahead.columns.some((c) => c.biased) ? '' : ' (no indicator column differs: onData reads later candles through data kept outside the frame, e.g. arrays stashed in populateIndicators)'),
    );
  }
  return lines;
}

function describe(signal: Signal | null): string {
  return signal === null ? 'no signal' : JSON.stringify(signal);
}
