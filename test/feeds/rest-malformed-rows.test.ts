/**
 * A malformed row in a REST page (the simulator's `restMalformed` fault, through real ccxt): the candle is not taken
 * for an exchange gap; it stays wanted, and the later valid read of it is emitted in its place.
 */
import { describe, expect, it } from 'vitest';
import { dataset, problemsAgainstDataset, runFeed, START, TF_5M } from './support';

describe('live feed: malformed REST rows (real ccxt, simulator on loopback)', () => {
  it('re-reads the candle of an invalid row instead of skipping it as absent', async () => {
    // 1,500 candles to backfill (two pages of 1,000); the 1st and 2nd kline answers each carry one invalid row
    // (high < low) in their middle, so two candles inside the backfill arrive invalid first.
    const lastStored = START - 1_500 * TF_5M;
    const run = await runFeed({ faults: { restMalformed: { nth: [1, 2] } }, lastStoredOpenTime: lastStored, candles: 1_700, lockstep: true });
    expect(run.sim.stats.faults.restMalformed).toBe(2);
    expect(run.status.invalidFrames).toBeGreaterThanOrEqual(2);
    // Every candle of the dataset after the stored one, in order, each once, with the exchange's values.
    expect(problemsAgainstDataset(run.emitted, lastStored, new Map())).toEqual([]);
    const expected = Array.from(dataset().openTime).filter((t) => t > lastStored).slice(0, run.emitted.length);
    expect(run.emitted.map((c) => c.openTime)).toEqual(expected);
    // No candle reported absent (the dataset has no gap in this span).
    expect(run.status.exchangeGaps).toEqual([]);
    const invalid = run.lines.filter((l) => l['msg'] === 'invalid candle skipped');
    expect(invalid.length).toBeGreaterThanOrEqual(2);
  });
});
