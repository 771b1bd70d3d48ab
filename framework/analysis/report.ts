/**
 * The terminal report of `npm run check`.
 *
 * @module
 */
import Table from 'cli-table3';
import { describeSubscription } from '../core/subscription';
import { isoUtc } from '../core/time';
import type { Signal } from '../strategy/signal';
import type { CheckResult } from './check';

/** How many differing signals the report lists (the count is always given). */
const LISTED_SIGNALS = 5;

/**
 * Formats a {@link CheckResult} as plain text: a header naming the strategy, market and period; a lookahead table
 * (per indicator column `ok` or `BIASED` with the first differing candle, both values and the cut that showed it) and
 * the signal comparison; a warm-up table (per column the warm-up needed within the tolerance and bit for bit, whether
 * the declared warm-up is enough, and the largest relative deviation with at least each listed number of earlier
 * candles); and a one-line result. Times are UTC to the minute.
 *
 * @returns the report, lines separated by `\n`, without a trailing newline.
 */
export function formatCheckReport(result: CheckResult): string {
  const { lookahead, warmup } = result;
  const lines: string[] = [
    `Check of ${result.file} (${result.strategy}) on ${describeSubscription(result.subscription)}: ` +
      `${result.candles.count} candles, ${minute(result.candles.first)} → ${minute(result.candles.last)} UTC`,
    '',
    `Lookahead: ${lookahead.cuts.length} truncated histories, cut from ${minute(lookahead.cuts[0]!)} to ` +
      `${minute(lookahead.cuts[lookahead.cuts.length - 1]!)}, compared bit for bit with the full replay`,
  ];
  const lookaheadTable = table(['Column', 'Lookahead', 'First difference (full vs truncated history)']);
  for (const column of lookahead.columns) {
    const d = column.firstDifference;
    lookaheadTable.push([
      column.name,
      column.biased ? 'BIASED' : 'ok',
      d === undefined ? '' : `${minute(d.openTime)}: ${d.full} vs ${d.truncated} (history cut at ${minute(d.cutOpenTime)})`,
    ]);
  }
  lines.push(lookaheadTable.toString());
  const { checked, differing } = lookahead.signals;
  lines.push(`Signals: ${checked} decided again on a history ending at their own candle; ${differing.length} differ`);
  for (const d of differing.slice(0, LISTED_SIGNALS)) {
    lines.push(`  ${minute(d.openTime)}: full ${describeSignal(d.full)}, truncated ${describeSignal(d.truncated)}`);
  }
  if (differing.length > LISTED_SIGNALS) lines.push(`  … and ${differing.length - LISTED_SIGNALS} more`);

  lines.push(
    '',
    `Warm-up: ${warmup.origins.length} histories of ${warmup.span} candles starting later, relative tolerance ` +
      `${warmup.tolerance}; declared warm-up ${warmup.declared} candles`,
  );
  const lengths = warmup.columns[0]?.deviations.map((d) => d.length) ?? [];
  const warmupTable = table(['Column', 'Needed', 'Bit-exact', 'Declared', ...lengths.map((l) => `Δ after ${l}`)]);
  for (const column of warmup.columns) {
    warmupTable.push([
      column.name,
      candlesNeeded(column.needed, warmup.span),
      candlesNeeded(column.neededExact, warmup.span),
      column.enough ? 'enough' : 'TOO SHORT',
      ...column.deviations.map((d) => relative(d.maxRelative)),
    ]);
  }
  lines.push(
    warmupTable.toString(),
    'Needed: earlier candles after which every value agrees with the whole-history value; Δ after L: largest relative ' +
      'deviation with at least L earlier candles (NaN: one of the two values is missing). A live run reproduces the ' +
      'replay from a window of the bit-exact size.',
    '',
    `Result: ${result.passed ? 'passed' : 'FAILED'}: ${verdicts(result).join('; ')}`,
  );
  return lines.join('\n');
}

function verdicts(result: CheckResult): string[] {
  const { lookahead, warmup } = result;
  const biased = lookahead.columns.filter((c) => c.biased).map((c) => c.name);
  const out = [
    lookahead.biased
      ? `lookahead bias in ${[...biased, ...(lookahead.signals.differing.length > 0 ? ['signals'] : [])].join(', ')}`
      : 'no lookahead bias found',
  ];
  const short = warmup.columns.filter((c) => !c.enough);
  out.push(
    short.length === 0
      ? `declared warm-up ${warmup.declared} ≥ ${warmup.needed} candles needed`
      : `declared warm-up ${warmup.declared} is too short: ${short
          .map((c) => `${c.name} needs ${candlesNeeded(c.needed, warmup.span)}`)
          .join(', ')}`,
  );
  return out;
}

function table(head: string[]): Table.Table {
  return new Table({
    head,
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    style: { head: [], border: [] },
  });
}

function candlesNeeded(needed: number | null, span: number): string {
  return needed === null ? `> ${Math.floor(span / 2)}` : String(needed);
}

function relative(value: number): string {
  if (value === 0) return '0';
  if (!Number.isFinite(value)) return 'NaN';
  return value.toExponential(1);
}

function describeSignal(signal: Signal | null): string {
  return signal === null ? 'none' : JSON.stringify(signal);
}

/** `2021-01-02 03:04`: UTC epoch ms to the minute. */
function minute(ms: number): string {
  return isoUtc(ms).slice(0, 16).replace('T', ' ');
}
