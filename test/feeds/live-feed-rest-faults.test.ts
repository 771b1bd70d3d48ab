/**
 * The live feed against the simulator's REST faults (429 with Retry-After, 500, revised candles) and against every
 * fault at once: over 1,000+ real candles, the feed still emits exactly the dataset the simulator played. The single
 * faults are played with the exchange clock moved on what the feed has done (lockstep): the number of pages and how the
 * stream and REST share the candles do not depend on how fast this machine is.
 */
import { describe, expect, it } from 'vitest';
import { problemsAgainstDataset, runFeed, START, TF_5M } from './support';

const LAST_STORED = START - 1_500 * TF_5M;
const CANDLES = 2_550;

describe('live feed under REST faults (real ccxt, simulator on loopback)', () => {
  it('rest429: waits out the Retry-After and loses no page', async () => {
    const run = await runFeed({
      faults: { rest429: { nth: [8, 9], retryAfterSec: 1 } },
      lastStoredOpenTime: LAST_STORED,
      candles: CANDLES,
      lockstep: true,
    });
    expect(problemsAgainstDataset(run.emitted, LAST_STORED, new Map())).toEqual([]);
    expect(run.sim.stats.faults.rest429).toBe(2);
    expect(run.status.rateLimitWaits).toBe(2);
    // Each 429 is logged with its Retry-After (a failed clock sample, or a REST call retried no sooner than that).
    const waits = run.lines.filter((l) => l['retryAfterMs'] === 1_000);
    expect(waits).toHaveLength(2);
    for (const retried of waits.filter((l) => l['waitMs'] !== undefined)) expect(retried['waitMs']).toBeGreaterThanOrEqual(1_000);
  });

  it('rest500: failed pages are retried, not skipped', async () => {
    const run = await runFeed({ faults: { rest500: { rate: 0.2 } }, lastStoredOpenTime: LAST_STORED, candles: CANDLES, lockstep: true });
    expect(problemsAgainstDataset(run.emitted, LAST_STORED, new Map())).toEqual([]);
    expect(run.sim.stats.faults.rest500).toBeGreaterThan(0);
    expect(run.status.restRetries).toBeGreaterThan(0);
  });

  it('revision: a candle revised after its closing frame is reported, never emitted twice', async () => {
    const run = await runFeed({ faults: { revision: { rate: 0.05 } }, lastStoredOpenTime: LAST_STORED, candles: CANDLES, lockstep: true });
    const revised = new Map(run.sim.revisions.map((r) => [r.openTime, r] as const));
    const restVolume = new Map(run.sim.revisions.map((r) => [r.openTime, r.restVolume] as const));
    expect(problemsAgainstDataset(run.emitted, LAST_STORED, restVolume)).toEqual([]);
    const reported = run.feed.revisions();
    expect(reported.length).toBeGreaterThan(0);
    expect(reported.length).toBe(run.status.revisions);
    for (const r of reported) {
      const truth = revised.get(r.openTime);
      expect(truth).toBeDefined();
      // The stream closed it with the original volume; REST later showed the revised one.
      expect(r.accepted.source).toBe('websocket');
      expect(r.accepted.volume).toBe(truth!.websocketVolume);
      expect(r.revised.source).toBe('rest');
      expect(r.revised.volume).toBe(truth!.restVolume);
    }
  });

  it('all faults at once', async () => {
    const run = await runFeed({
      faults: {
        drop: { rate: 0.005 },
        stall: { rate: 0.002, durationMs: 40 * TF_5M },
        duplicate: { rate: 0.03 },
        outOfOrder: { rate: 0.03 },
        malformed: { rate: 0.02 },
        rest429: { rate: 0.03, retryAfterSec: 0 },
        rest500: { rate: 0.05 },
        revision: { rate: 0.03 },
      },
      lastStoredOpenTime: LAST_STORED,
      candles: CANDLES,
    });
    const restVolume = new Map(run.sim.revisions.map((r) => [r.openTime, r.restVolume] as const));
    expect(problemsAgainstDataset(run.emitted, LAST_STORED, restVolume)).toEqual([]);
    const faults = run.sim.stats.faults;
    for (const kind of ['drop', 'duplicate', 'outOfOrder', 'malformed', 'rest500'] as const) {
      expect(faults[kind], kind).toBeGreaterThan(0);
    }
    expect(run.status.invalidFrames).toBeGreaterThan(0);
    expect(run.openAfterStop).toBe(0);
  });
});
