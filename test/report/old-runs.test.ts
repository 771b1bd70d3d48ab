/**
 * Files of runs made before the fraction names (`return_pct` → `return_fraction` in trades.parquet, `expectancyPct` →
 * `expectancyFraction` in the metrics) are still read. The fixtures were written by the code before the rename:
 * `test/fixtures/old-runs/backtest/trades.parquet` by `npm run backtest -- strategies/macd.ts --from 2021-03-01
 * --to 2021-03-15`, `test/fixtures/old-runs/optimize/trials.jsonl` (its first 3 lines) by `npm run optimize --
 * strategies/macd.ts --trials 4 --windows 1 --from 2021-01-01 --to 2021-01-20`.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_BROKER_CONFIG } from '../../framework/broker/broker-config';
import { TrialLog, writeTrialsParquet } from '../../framework/optimize/trial-log';
import { readTradesFile } from '../../framework/report/trades-file';
import { readParquetTable } from '../../framework/store/arrow-columns';

const FIXTURES = join(import.meta.dirname, '../fixtures/old-runs');
const tmp = mkdtempSync(join(tmpdir(), 'old-runs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('an older trades.parquet (return_pct)', () => {
  it('reads under the current names, each return the fraction of the capital committed', () => {
    const path = join(FIXTURES, 'backtest/trades.parquet');
    const raw = readParquetTable(readFileSync(path), path);
    expect(raw.schema.fields.map((f) => f.name)).toContain('return_pct');
    const stored = [...(raw.getChild('return_pct')!.toArray() as Float64Array)];
    const trades = readTradesFile(path);
    expect(trades.length).toBeGreaterThan(0);
    expect(trades.map((t) => t.returnFraction)).toEqual(stored);
    // By hand: committed = notional + entry fee = quantity × entry price × (1 + fee rate), the fee rate the default 0.001.
    const fee = DEFAULT_BROKER_CONFIG.feeRate;
    expect(fee).toBe(0.001);
    for (const t of trades) expect(t.returnFraction).toBeCloseTo(t.pnl / (t.quantity * t.entryPrice * (1 + fee)), 12);
  });
});

describe('an older trials.jsonl (expectancyPct)', () => {
  it('resumes with the metric under its current name, and trials.parquet holds it', () => {
    copyFileSync(join(FIXTURES, 'optimize/trials.jsonl'), join(tmp, 'trials.jsonl'));
    const lines = readFileSync(join(tmp, 'trials.jsonl'), 'utf8').trim().split('\n');
    const before = lines.map((l) => (JSON.parse(l) as { metrics: Record<string, number> }).metrics['expectancyPct']);
    expect(before.every((v) => typeof v === 'number')).toBe(true);
    const log = TrialLog.open(tmp);
    log.close();
    expect(log.rows.map((r) => r.metrics.expectancyFraction)).toEqual(before);
    expect(log.rows.every((r) => !('expectancyPct' in r.metrics))).toBe(true);
    const file = writeTrialsParquet(tmp, log.rows);
    const table = readParquetTable(readFileSync(file), file);
    expect([...(table.getChild('expectancyFraction')!.toArray() as Float64Array)]).toEqual(before);
  });
});
