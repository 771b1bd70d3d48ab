import { afterEach, describe, expect, it } from 'vitest';
import { connectCcxt } from '../../framework/sim/ccxt-client';
import type { ProBinance } from '../../framework/sim/ccxt-client';
import type { SimulatorConfig } from '../../framework/sim/config';
import { startSimulator } from '../../framework/sim/simulator';
import type { Simulator } from '../../framework/sim/simulator';
import type { OhlcvRow } from './fixtures';
import { readRows, rowsToBatch } from './fixtures';
import type { KlineFrame } from './raw-client';
import { RawClient } from './raw-client';

const TF = 5 * 60_000;
const ROWS = readRows('BTC_USDT-5m.json');
/** 2021-03-01 00:00 UTC, aligned: the next gap in the 5m file is on 2021-03-06, so the next 1,400 candles are gapless. */
const START = Date.UTC(2021, 2, 1);
const BY_TIME = new Map(ROWS.map((r) => [r[0], r] as const));
const STREAM = 'btcusdt@kline_5m';

let sim: Simulator | undefined;
let ex: ProBinance | undefined;
let raw: RawClient | undefined;

afterEach(async () => {
  raw?.close();
  await ex?.close();
  await sim?.stop();
  [raw, ex, sim] = [undefined, undefined, undefined];
});

async function start(overrides: Partial<SimulatorConfig> = {}, rows: readonly OhlcvRow[] = ROWS): Promise<Simulator> {
  sim = await startSimulator({
    markets: [{ symbol: 'BTC/USDT', timeframe: '5m', candles: rowsToBatch(rows) }],
    startTime: START,
    speed: 0,
    ...overrides,
  });
  return sim;
}

/** The dataset row of a kline frame's open time, as numbers [t, o, h, l, c, v]. */
function numbers(frame: KlineFrame): OhlcvRow {
  const k = frame.k;
  return [k.t, Number(k.o), Number(k.h), Number(k.l), Number(k.c), Number(k.v)];
}

describe('simulator WebSocket', () => {
  it('sends, per candle, forming frames then a closing frame equal to the dataset, in Binance shape', async () => {
    const s = await start();
    raw = await RawClient.open(`${s.wsUrl}/${STREAM}`);
    const candles = 60;
    for (let i = 1; i <= candles; i += 1) s.advanceTo(START + i * TF);
    // 4 events per candle (3 forming + close); at START only the first event (00:00 step 0) is history
    await raw.waitForFrames(4 * candles);
    const frames = raw.klines();
    expect(frames.length).toBe(4 * candles);

    const recordedKeys = ['t', 'T', 's', 'i', 'f', 'L', 'o', 'c', 'h', 'l', 'v', 'n', 'x', 'q', 'V', 'Q', 'B'];
    for (const f of frames) {
      expect(Object.keys(f)).toEqual(['e', 'E', 's', 'k']);
      expect(Object.keys(f.k)).toEqual(recordedKeys);
      expect(f.s).toBe('BTCUSDT');
      expect(f.k.i).toBe('5m');
      expect(f.k.T).toBe(f.k.t + TF - 1);
      expect(f.E).toBeGreaterThanOrEqual(f.k.t);
    }
    const eventTimes = frames.map((f) => f.E);
    expect(eventTimes).toEqual([...eventTimes].sort((a, b) => a - b));

    const closing = frames.filter((f) => f.k.x);
    expect(closing.map((f) => f.k.t)).toEqual(Array.from({ length: candles }, (_, i) => START + i * TF));
    for (const f of closing) {
      expect(numbers(f)).toEqual(BY_TIME.get(f.k.t));
      expect(f.E).toBe(f.k.t + TF);
    }

    // forming frames of a candle reveal it progressively and stay inside the final candle
    for (let i = 1; i < candles; i += 1) {
      const t = START + i * TF;
      const forming = frames.filter((f) => f.k.t === t && !f.k.x);
      expect(forming.length).toBe(3);
      const final = BY_TIME.get(t)!;
      let previousVolume = 0;
      for (const f of forming) {
        const [, o, h, l, , v] = numbers(f);
        expect(o).toBe(final[1]);
        expect(h).toBeLessThanOrEqual(final[2]);
        expect(l).toBeGreaterThanOrEqual(final[3]);
        expect(v).toBeGreaterThanOrEqual(previousVolume);
        expect(v).toBeLessThanOrEqual(final[5]);
        previousVolume = v;
      }
    }
  });

  it('the forming candle over REST equals the latest WebSocket frame of it', async () => {
    const s = await start();
    raw = await RawClient.open(`${s.wsUrl}/${STREAM}`);
    for (let i = 0; i < 20; i += 1) {
      // between the 2nd (t + 100 s) and 3rd (t + 200 s) forming frames of candle i
      s.advanceTo(START + i * TF + 150_000);
      const t = START + i * TF;
      await raw.waitUntil(() => raw!.klines().some((f) => f.k.t === t && f.E === t + 100_000));
      const last = raw.klines().at(-1)!;
      const res = await fetch(`${s.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=5m&limit=1`);
      const [row] = (await res.json()) as unknown[][];
      const k = last.k;
      expect(row).toEqual([k.t, k.o, k.h, k.l, k.c, k.v, k.T, k.q, k.n, k.V, k.Q, '0']);
    }
  });

  it('ccxt.pro watchOHLCV receives forming and closing candles; the closed ones equal the dataset', async () => {
    const s = await start();
    ex = connectCcxt(s);
    const seen = new Map<number, number[]>();
    const candles = 300;
    let watching = ex.watchOHLCV('BTC/USDT', '5m');
    await s.waitForSubscribers('BTC/USDT', '5m');
    for (let i = 1; i <= candles + 1; i += 1) {
      s.advanceTo(START + i * TF);
      for (const c of await watching) seen.set(c[0]!, c as number[]);
      watching = ex.watchOHLCV('BTC/USDT', '5m');
    }
    // one more forming frame: everything sent before it has been handled by ccxt
    s.advanceTo(START + (candles + 2) * TF);
    for (const c of await watching) seen.set(c[0]!, c as number[]);

    const closed = [...seen.keys()].filter((t) => t + TF <= START + (candles + 1) * TF).sort((a, b) => a - b);
    expect(closed.length).toBe(candles + 1);
    for (const t of closed) expect(seen.get(t)).toEqual(BY_TIME.get(t));
    expect(s.stats.wsConnections).toBe(1);
  });

  it('plays 1,200 candles on an accelerated clock in seconds; every closing frame equals the dataset', async () => {
    const first = ROWS.findIndex((r) => r[0] === START);
    const played = 1200;
    const rows = ROWS.slice(0, first + played);
    // 1,200 × 5 min of exchange time in about 2 s of real time
    const s = await start({ speed: (played * TF) / 2000 }, rows);
    raw = await RawClient.open(`${s.wsUrl}/${STREAM}`);
    const lastOpen = rows.at(-1)![0];
    await raw.waitUntil(() => raw!.klines().some((f) => f.k.x && f.k.t === lastOpen));
    const closing = raw.klines().filter((f) => f.k.x);
    // frames before the connection was subscribed are missed; from the first one on, none is
    const firstSeen = closing[0]!.k.t;
    const expected = rows.filter((r) => r[0] >= firstSeen);
    expect(closing.length).toBe(expected.length);
    expect(closing.map(numbers)).toEqual(expected);
    expect(expected.length).toBeGreaterThan(1000);
  });

  it('serves combined streams (/stream?streams=) in the {stream, data} envelope and live SUBSCRIBE/UNSUBSCRIBE', async () => {
    const s = await start();
    raw = await RawClient.open(`${s.streamUrl}?streams=${STREAM}`);
    s.advanceTo(START + TF);
    await raw.waitForFrames(4);
    const envelope = JSON.parse(raw.frames[0]!) as { stream: string; data: KlineFrame };
    expect(Object.keys(envelope)).toEqual(['stream', 'data']);
    expect(envelope.stream).toBe(STREAM);
    expect(envelope.data.e).toBe('kline');

    const live = await RawClient.open(s.wsUrl);
    try {
      live.send({ method: 'SUBSCRIBE', params: [STREAM], id: 7 });
      await live.waitForFrames(1);
      expect(JSON.parse(live.frames[0]!)).toEqual({ result: null, id: 7 });
      live.send({ method: 'LIST_SUBSCRIPTIONS', id: 8 });
      await live.waitForFrames(2);
      expect(JSON.parse(live.frames[1]!)).toEqual({ result: [STREAM], id: 8 });
      s.advanceTo(START + 2 * TF);
      await live.waitForFrames(6);
      expect(live.klines().length).toBe(4);
      live.send({ method: 'UNSUBSCRIBE', params: [STREAM], id: 9 });
      await live.waitForFrames(7);
      expect(JSON.parse(live.frames[6]!)).toEqual({ result: null, id: 9 });
      live.send({ method: 'NOPE', id: 10 });
      await live.waitForFrames(8);
      expect((JSON.parse(live.frames[7]!) as { code: number }).code).toBe(2);
      s.advanceTo(START + 3 * TF);
      // the combined client gets the next candle's 4 frames; the unsubscribed one nothing more
      await raw.waitForFrames(12);
      expect(live.klines().length).toBe(4);
    } finally {
      live.close();
    }
  });
});
