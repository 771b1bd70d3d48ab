/**
 * The live feed's start: stored history + REST backfill (several pages, some failing) + the stream, joined with no gap
 * and no duplicate; and bad frames on the wire, each logged with the frame, counted, and survived.
 */
import { describe, expect, it } from 'vitest';
import { dataset, problemsAgainstDataset, runFeed, START, TF_5M } from './support';

describe('live feed warm-up seam (real ccxt, simulator on loopback)', () => {
  it('history + backfill + stream hold every candle exactly once', async () => {
    // History: the dataset up to 2,300 candles before the simulator's start (the exchange's "now"), so the backfill
    // needs three REST pages while the stream is already delivering; 20% of REST requests fail with HTTP 500.
    const data = dataset();
    const historyEnd = START - 2_300 * TF_5M;
    const history = Array.from(data.openTime).filter((t) => t >= historyEnd - 500 * TF_5M && t <= historyEnd);
    // The exchange clock moves on what the feed has done (lockstep), so the stream's share does not depend on how fast
    // this machine is.
    const run = await runFeed({ faults: { rest500: { rate: 0.2 } }, lastStoredOpenTime: historyEnd, candles: 3_000, seed: 11, lockstep: true });

    const all = [...history, ...run.emitted.map((c) => c.openTime)];
    const last = all[all.length - 1]!;
    const expected = Array.from(data.openTime).filter((t) => t >= history[0]! && t <= last);
    expect(all).toEqual(expected);
    expect(problemsAgainstDataset(run.emitted, historyEnd, new Map())).toEqual([]);
    // The seam: REST candles up to the exchange's start, then the stream (with REST only where it repaired something).
    const firstWs = run.emitted.findIndex((c) => c.source === 'websocket');
    expect(firstWs).toBeGreaterThanOrEqual(2_300 - 1);
    expect(run.emitted.length - firstWs).toBeGreaterThanOrEqual(500);
    expect(run.emitted.slice(0, firstWs).every((c) => c.source === 'rest')).toBe(true);
    expect(run.sim.stats.faults.rest500).toBeGreaterThan(0);
    expect(run.status.restRetries).toBeGreaterThanOrEqual(1);
  });
});

describe('bad input on the wire', () => {
  it('cut JSON, NaN, high < low and a misaligned open time are logged with the frame and counted; the feed goes on', async () => {
    // The 40th to 43rd frames delivered are malformed, one of each kind in turn.
    const lastStored = START - 10 * TF_5M;
    const run = await runFeed({ faults: { malformed: { nth: [40, 41, 42, 43] } }, lastStoredOpenTime: lastStored, candles: 300, lockstep: true });
    expect(run.sim.stats.malformedByKind).toEqual({ json: 1, nan: 1, highBelowLow: 1, misaligned: 1 });
    expect(problemsAgainstDataset(run.emitted, lastStored, new Map())).toEqual([]);
    expect(run.emitted.length).toBeGreaterThanOrEqual(300);

    const warnings = run.lines.filter((l) => l['level'] === 40 && l['frame'] !== undefined);
    const cut = warnings.filter((l) => typeof l['frame'] === 'string');
    expect(cut).toHaveLength(1);
    expect(() => JSON.parse(cut[0]!['frame'] as string)).toThrow();
    const klines = warnings.map((l) => (l['frame'] as { k?: Record<string, string | number> }).k).filter((k) => k !== undefined);
    expect(klines.filter((k) => k['c'] === 'NaN')).toHaveLength(1);
    expect(klines.filter((k) => (k['t'] as number) % TF_5M !== 0)).toHaveLength(1);
    // A swapped high/low is invalid unless the frame's high and low were equal.
    const swapped = klines.filter((k) => Number(k['h']) < Number(k['l']));
    expect(swapped.length).toBeLessThanOrEqual(1);
    expect(run.status.invalidFrames).toBe(3 + swapped.length);
    expect(warnings).toHaveLength(run.status.invalidFrames);
  });
});
