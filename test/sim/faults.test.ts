import { DDoSProtection, NetworkError, OperationFailed } from '../../framework/core/ccxt';
import { afterEach, describe, expect, it } from 'vitest';
import { connectCcxt } from '../../framework/sim/ccxt-client';
import type { FaultConfig } from '../../framework/sim/config';
import { startSimulator } from '../../framework/sim/simulator';
import type { Simulator } from '../../framework/sim/simulator';
import { readRows, rowsToBatch } from './fixtures';
import { RawClient } from './raw-client';

const TF = 5 * 60_000;
const ROWS = readRows('BTC_USDT-5m.json');
const BATCH = rowsToBatch(ROWS);
const START = Date.UTC(2021, 2, 1);
const BY_TIME = new Map(ROWS.map((r) => [r[0], r] as const));
const STREAM = 'btcusdt@kline_5m';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function start(faults: FaultConfig, seed = 1): Promise<Simulator> {
  const sim = await startSimulator({
    markets: [{ symbol: 'BTC/USDT', timeframe: '5m', candles: BATCH }],
    startTime: START,
    speed: 0,
    faults,
    seed,
  });
  cleanup.push(() => sim.stop());
  return sim;
}

async function subscribe(sim: Simulator): Promise<RawClient> {
  const raw = await RawClient.open(`${sim.wsUrl}/${STREAM}`);
  cleanup.push(() => raw.close());
  return raw;
}

/** Plays `candles` candles on a fresh subscriber of `sim` and returns the frames it received (waits for `expected`). */
async function play(sim: Simulator, candles: number, expected: number): Promise<string[]> {
  const raw = await subscribe(sim);
  for (let i = 1; i <= candles; i += 1) sim.advanceTo(START + i * TF);
  await raw.waitForFrames(expected);
  // The first `expected` frames: more may still be on their way when this returns (a copy, not the growing array).
  return raw.frames.slice(0, expected);
}

describe('fault injection', () => {
  it('rest429: HTTP 429 with Retry-After and Binance error body; ccxt raises DDoSProtection', async () => {
    const sim = await start({ rest429: { nth: [1, 2], retryAfterSec: 7 } });
    const res = await fetch(`${sim.restUrl}/api/v3/time`);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(((await res.json()) as { code: number }).code).toBe(-1003);
    const ex = connectCcxt(sim);
    cleanup.push(() => ex.close());
    await expect(ex.fetchTime()).rejects.toBeInstanceOf(DDoSProtection);
    expect(await ex.fetchTime()).toBe(START);
    expect(sim.stats.faults.rest429).toBe(2);
  });

  // Binance answers its 500s with {"code":-1000,...} (seen e.g. in rotki/rotki#4781); ccxt maps -1000 to OperationFailed
  it('rest500: HTTP 500 with code -1000; ccxt raises OperationFailed', async () => {
    const sim = await start({ rest500: { nth: [2] } });
    const ex = connectCcxt(sim);
    cleanup.push(() => ex.close());
    expect(await ex.fetchTime()).toBe(START);
    await expect(ex.fetchTime()).rejects.toBeInstanceOf(OperationFailed);
    const res = await fetch(`${sim.restUrl}/api/v3/time`);
    expect(res.status).toBe(200);
    expect(sim.stats.faults.rest500).toBe(1);
  });

  it('drop: the server destroys the connection instead of sending the frame', async () => {
    const sim = await start({ drop: { nth: [2] } });
    const raw = await subscribe(sim);
    sim.advanceTo(START + TF);
    expect(await raw.closed).toBe(1006);
    expect(raw.klines().length).toBe(1);
    expect(sim.stats.faults.drop).toBe(1);
    expect(sim.stats.wsOpenConnections).toBe(0);
  });

  it('drop: ccxt.pro watchOHLCV rejects with a NetworkError', async () => {
    const sim = await start({ drop: { nth: [1] } });
    const ex = connectCcxt(sim);
    cleanup.push(() => ex.close());
    const watching = ex.watchOHLCV('BTC/USDT', '5m');
    await sim.waitForSubscribers('BTC/USDT', '5m');
    sim.advanceTo(START + TF);
    await expect(watching).rejects.toBeInstanceOf(NetworkError);
    expect(sim.stats.faults.drop).toBe(1);
  });

  it('stall: the socket stays open but sends nothing for the stall period, then resumes', async () => {
    const control = await play(await start({}), 5, 20);
    const sim = await start({ stall: { nth: [2], durationMs: 2 * TF } });
    const raw = await subscribe(sim);
    for (let i = 1; i <= 5; i += 1) sim.advanceTo(START + i * TF);
    const expected = control.filter((text, i) => {
      const e = (JSON.parse(text) as { E: number }).E;
      return i === 0 || e >= START + 200_000 + 2 * TF; // the 2nd frame (E = start + 200 s) starts a 10-minute stall
    });
    await raw.waitForFrames(expected.length);
    expect(raw.frames).toEqual(expected);
    expect(sim.stats.faults.stall).toBe(1);
    expect(sim.stats.wsOpenConnections).toBe(1);
  });

  it('duplicate: a frame is sent twice', async () => {
    const control = await play(await start({}), 2, 8);
    const frames = await play(await start({ duplicate: { nth: [2] } }), 2, 9);
    expect(frames).toEqual([control[0], control[1], control[1], ...control.slice(2)]);
  });

  it('outOfOrder: two frames are swapped', async () => {
    const control = await play(await start({}), 2, 8);
    const sim = await start({ outOfOrder: { nth: [2] } });
    const frames = await play(sim, 2, 8);
    expect(frames).toEqual([control[0], control[2], control[1], ...control.slice(3)]);
    expect(sim.stats.faults.outOfOrder).toBe(1);
  });

  it('malformed: broken JSON, NaN, high < low and a misaligned open time, in turn', async () => {
    const sim = await start({ malformed: { nth: [1, 2, 3, 4] } });
    const frames = await play(sim, 2, 8);
    expect(() => JSON.parse(frames[0]!)).toThrow();
    const [nan, swapped, misaligned] = frames.slice(1, 4).map((t) => (JSON.parse(t) as { k: Record<string, string> }).k);
    expect(nan!['c']).toBe('NaN');
    expect(Number(swapped!['h'])).toBeLessThan(Number(swapped!['l']));
    expect(Number(misaligned!['t']) % TF).not.toBe(0);
    expect(sim.stats.faults.malformed).toBe(4);
    expect(sim.stats.malformedByKind).toEqual({ json: 1, nan: 1, highBelowLow: 1, misaligned: 1 });
  });

  it('revision: the REST version of a closed candle differs from what the WebSocket sent', async () => {
    const revised = START + 2 * TF;
    const sim = await start({ revision: { openTimes: [revised] } });
    const raw = await subscribe(sim);
    for (let i = 1; i <= 4; i += 1) sim.advanceTo(START + i * TF);
    await raw.waitForFrames(16);
    const wsClose = raw.klines().find((f) => f.k.x && f.k.t === revised)!;
    expect(Number(wsClose.k.v)).toBe(BY_TIME.get(revised)![5]);
    const res = await fetch(`${sim.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=5m&startTime=${revised}&limit=1`);
    const [row] = (await res.json()) as string[][];
    expect(row![0]).toBe(revised);
    expect(Number(row![5])).not.toBe(BY_TIME.get(revised)![5]);
    expect(row!.slice(1, 5)).toEqual([wsClose.k.o, wsClose.k.h, wsClose.k.l, wsClose.k.c]);
    expect(sim.revisions).toEqual([
      {
        symbol: 'BTC/USDT',
        timeframe: '5m',
        openTime: revised,
        websocketVolume: BY_TIME.get(revised)![5],
        restVolume: Number(row![5]),
        websocketClose: BY_TIME.get(revised)![4],
        restClose: Number(row![4]),
      },
    ]);
    expect(sim.stats.faults.revision).toBe(1);
  });

  it('rate-based faults are deterministic for a seed', async () => {
    const faults: FaultConfig = {
      duplicate: { rate: 0.2 },
      outOfOrder: { rate: 0.1 },
      malformed: { rate: 0.1 },
      revision: { rate: 0.05 },
    };
    const a = await start(faults, 42);
    const framesA = await play(a, 30, 120);
    const b = await start(faults, 42);
    const framesB = await play(b, 30, 120);
    expect(framesB).toEqual(framesA);
    expect(b.stats.faults).toEqual(a.stats.faults);
    expect(a.stats.faults.duplicate).toBeGreaterThan(0);
    expect(b.revisions).toEqual(a.revisions);
    expect(a.revisions.length).toBeGreaterThan(0);
    expect(a.revisions.every((r) => r.openTime + TF > START)).toBe(true);
    const c = await start(faults, 43);
    expect(c.revisions).not.toEqual(a.revisions);
  });
});
