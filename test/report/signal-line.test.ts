import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBacktest } from '../../framework/engine/backtest';
import { jsonNumbers } from '../../framework/report/json-lines';
import type { SignalRecord } from '../../framework/report/run-summary';

const root = mkdtempSync(join(tmpdir(), 'signal-line-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The record as JSON.stringify writes it with `openTimeIso` inserted after `openTime` (the documented format). */
function stringified(record: SignalRecord): string {
  const { strategy, subscription, openTime, ...rest } = record;
  const withIso = { strategy, subscription, openTime, openTimeIso: new Date(openTime).toISOString(), ...rest };
  return JSON.stringify(withIso, jsonNumbers);
}

describe('signals.jsonl of a real MACD backtest (BTC/USDT 15m)', () => {
  it('holds one line per signal, each exactly JSON.stringify of the record with openTimeIso', async () => {
    const result = await runBacktest({ file: 'strategies/macd.ts', runsRoot: join(root, 'runs') });
    const signals = result.engine.signals;
    const lines = readFileSync(join(result.dir, 'signals.jsonl'), 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(signals.length);
    // Some signals were not acted on (a reason is written); NaN indicator values are covered in run-writer.test.ts.
    expect(signals.some((s) => !s.acted && s.reason !== undefined)).toBe(true);
    lines.forEach((line, i) => expect(line).toBe(stringified(signals[i]!)));
  });
});
