/**
 * Continuity check of candles as stored: what is wrong with them before the pipeline cleans them up, in the spirit of
 * freqtrade's data checks (`list-data --show-timerange`, missing-candle warnings) and NautilusTrader's data
 * validation. Used by the CLI to report on a dataset and by tests to check imported data.
 *
 * @module
 */
import { batchLength, type CandleBatch } from '../core/candle';
import { isoUtc } from '../core/time';
import type { Timeframe } from '../core/timeframe';
import { isKnownGap, type KnownGap } from './gap-policy';
import { describeGap, type Gap } from './gaps';
import { processCandles, type Rejection } from './pipeline';

/**
 * The result of {@link verifyCandles}.
 * - `ok`: no duplicates, no out-of-order rows, no invalid rows and no gaps other than accepted ones (known exchange
 *   outages, or every gap when gaps are allowed);
 * - `candles`: number of rows as stored;
 * - `first`, `last`: earliest and latest open time of the valid candles (UTC epoch ms), `null` when there are none;
 * - `duplicates`: rows that repeat the open time of another valid row (all but one per open time);
 * - `unsorted`: valid rows whose open time is lower than the previous valid row's;
 * - `invalid`: rows that fail validation; `rejected` says why for each;
 * - `gaps`: runs of missing candles between `first` and `last`; `missing`: their total number of candles;
 * - `known`: the gaps of `gaps` that lie inside a known exchange outage (accepted);
 * - `gapsAllowed`: whether every gap was accepted (`allowGaps`).
 */
export interface ContinuityReport {
  readonly ok: boolean;
  readonly candles: number;
  readonly first: number | null;
  readonly last: number | null;
  readonly duplicates: number;
  readonly unsorted: number;
  readonly invalid: number;
  readonly rejected: readonly Rejection[];
  readonly gaps: readonly Gap[];
  readonly missing: number;
  readonly known: readonly Gap[];
  readonly gapsAllowed: boolean;
}

/**
 * Which gaps {@link verifyCandles} accepts: those inside a `known` exchange outage (see
 * {@link "pipeline/gap-policy"!KnownGap | KnownGap}), or all of them with `allowGaps`.
 */
export interface GapAcceptance {
  readonly known?: readonly KnownGap[];
  readonly allowGaps?: boolean;
}

/**
 * Checks the continuity of stored candles: counts what {@link processCandles} would drop, reorder or report.
 * The batch is not changed.
 *
 * @param batch - candles as stored, in stored order.
 * @param timeframe - their timeframe, e.g. `5m`.
 * @param where - names the data in the reasons of `rejected` (default `stored candles`).
 * @param accept - the gaps that do not make the candles NOT OK (default: none).
 * @throws {@link "core/errors"!InvalidTimeframeError | InvalidTimeframeError} when `timeframe` is not valid.
 * @throws {@link "core/errors"!InvalidCandleError | InvalidCandleError} when the columns of the batch have different
 *   lengths.
 */
export function verifyCandles(
  batch: CandleBatch,
  timeframe: Timeframe,
  where = 'stored candles',
  accept: GapAcceptance = {},
): ContinuityReport {
  const result = processCandles(batch, timeframe, { where });
  const known = result.gaps.filter((g) => isKnownGap(g, timeframe, accept.known ?? []));
  const gapsAllowed = accept.allowGaps === true;
  const gapsOk = gapsAllowed || known.length === result.gaps.length;
  const clean = result.candles.openTime;
  const missing = result.gaps.reduce((sum, g) => sum + g.missing, 0);
  const invalid = result.rejected.length;
  return {
    ok: result.duplicates === 0 && result.unsorted === 0 && invalid === 0 && gapsOk,
    candles: batchLength(batch),
    first: clean.length > 0 ? clean[0]! : null,
    last: clean.length > 0 ? clean[clean.length - 1]! : null,
    duplicates: result.duplicates,
    unsorted: result.unsorted,
    invalid,
    rejected: result.rejected,
    gaps: result.gaps,
    missing,
    known,
    gapsAllowed,
  };
}

/** How many invalid rows {@link formatContinuityReport} lists before summarising the rest. */
const LISTED_INVALID_ROWS = 20;

/**
 * A continuity report as multi-line text for the CLI and logs: the status, the counts, the first and last open time
 * in ISO 8601 UTC, each gap on its own line, and the reasons of up to 20 invalid rows.
 *
 * @param report - from {@link verifyCandles}.
 * @param title - names the data, e.g. `binance BTC/USDT 5m`.
 */
export function formatContinuityReport(report: ContinuityReport, title: string): string {
  const unknown = report.gaps.filter((g) => !report.known.includes(g));
  const problems = [
    report.duplicates > 0 ? `${report.duplicates} duplicates` : null,
    report.unsorted > 0 ? `${report.unsorted} unsorted` : null,
    report.invalid > 0 ? `${report.invalid} invalid` : null,
    unknown.length > 0 && !report.gapsAllowed ? `${unknown.length} gaps` : null,
  ].filter((p) => p !== null);
  const accepted = report.gapsAllowed ? 'all allowed (--allow-gaps)' : `${report.known.length} known exchange outages`;
  const lines = [
    `${title}: ${report.ok ? 'OK' : `NOT OK (${problems.join(', ')})`}`,
    `  candles:    ${report.candles}`,
    `  first:      ${report.first === null ? '-' : isoUtc(report.first)}`,
    `  last:       ${report.last === null ? '-' : isoUtc(report.last)}`,
    `  duplicates: ${report.duplicates}`,
    `  unsorted:   ${report.unsorted}`,
    `  invalid:    ${report.invalid}`,
    `  gaps:       ${report.gaps.length} (${report.missing} missing candles; ${accepted})`,
    ...report.gaps.map((g) => `    - ${describeGap(g)}${report.known.includes(g) ? ' (known exchange outage)' : ''}`),
  ];
  if (report.rejected.length > 0) {
    lines.push('  invalid rows:', ...report.rejected.slice(0, LISTED_INVALID_ROWS).map((r) => `    - ${r.reason}`));
    if (report.rejected.length > LISTED_INVALID_ROWS) {
      lines.push(`    - … and ${report.rejected.length - LISTED_INVALID_ROWS} more`);
    }
  }
  return lines.join('\n');
}
