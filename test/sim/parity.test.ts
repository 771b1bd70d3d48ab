/**
 * ccxt treats the simulator's answers exactly like recorded real Binance traffic:
 * - REST: the recorded `GET /api/v3/klines` body (nautilus_trader's http_spot_market_klines.json, 10 BTCUSDT 1m klines)
 *   and the simulator's answer for a dataset holding those 10 klines' OHLCV;
 * - WebSocket: a recorded closed kline frame (cryptofeed's BINANCE_FUTURES.ws.1.0, © 2017-2021 Bryant Moscon) and the
 *   simulator's closing frame for a dataset holding that kline's OHLCV.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { connectCcxt } from '../../framework/sim/ccxt-client';
import type { ProBinance } from '../../framework/sim/ccxt-client';
import { startSimulator } from '../../framework/sim/simulator';
import type { Simulator } from '../../framework/sim/simulator';
import { DATA_DIR, rowsToBatch } from './fixtures';
import type { OhlcvRow } from './fixtures';
import { RawClient } from './raw-client';

type RecordedKline = [number, string, string, string, string, string, number, string, number, string, string, string];

interface Envelope {
  stream: string;
  data: { e: string; s: string; k: Record<string, unknown> & { t: number; i: string; x: boolean; o: string; h: string; l: string; c: string; v: string } };
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function track(sim: Simulator): Promise<Simulator> {
  cleanup.push(() => sim.stop());
  return sim;
}

function ccxtFor(sim: Simulator): ProBinance {
  const ex = connectCcxt(sim);
  cleanup.push(() => ex.close());
  return ex;
}

function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)]));
  }
  return typeof value;
}

describe('ccxt parses recorded Binance traffic and the simulator the same way', () => {
  it('REST klines: recorded body and simulator body give identical ccxt OHLCV', async () => {
    const recorded = JSON.parse(readFileSync(`${DATA_DIR}/http_spot_market_klines.json`, 'utf8')) as RecordedKline[];
    const rows: OhlcvRow[] = recorded.map((k) => [k[0], Number(k[1]), Number(k[2]), Number(k[3]), Number(k[4]), Number(k[5])]);
    const last = recorded.at(-1)!;
    const sim = await track(
      await startSimulator({
        markets: [{ symbol: 'BTC/USDT', timeframe: '1m', candles: rowsToBatch(rows) }],
        startTime: last[6] + 1,
        speed: 0,
      }),
    );
    const res = await fetch(`${sim.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=10`);
    const served = (await res.json()) as RecordedKline[];

    expect(shape(served)).toEqual(shape(recorded));
    // open time, OHLCV strings and close time are byte-identical to the recording; the rest are synthetic
    expect(served.map((k) => k.slice(0, 7))).toEqual(recorded.map((k) => k.slice(0, 7)));

    const ex = ccxtFor(sim);
    await ex.loadMarkets();
    const market = ex.market('BTC/USDT');
    const fromRecording = ex.parseOHLCVs(recorded, market, '1m');
    const fromSimulator = ex.parseOHLCVs(served, market, '1m');
    expect(fromSimulator).toEqual(fromRecording);
    expect(fromRecording.length).toBe(10);
  });

  it('WebSocket kline: recorded frame and simulator frame have the same shape and give identical ccxt candles', async () => {
    const lines = readFileSync(`${DATA_DIR}/BINANCE_FUTURES.ws.1.0`, 'utf8').split('\n').slice(1);
    const frames = lines
      .filter((l) => l.includes('@kline_'))
      .map((l) => JSON.parse(l.slice(l.indexOf(': ') + 2)) as Envelope);
    const recorded = frames.find((f) => f.data.k.x)!;
    const { k } = recorded.data;
    const base = recorded.data.s.replace(/USDT$/, '');
    const symbol = `${base}/USDT`;
    const tf = 60_000;
    const sim = await track(
      await startSimulator({
        markets: [{ symbol, timeframe: k.i, candles: rowsToBatch([[k.t, Number(k.o), Number(k.h), Number(k.l), Number(k.c), Number(k.v)]]) }],
        startTime: k.t,
        speed: 0,
      }),
    );
    const raw = await RawClient.open(`${sim.streamUrl}?streams=${recorded.stream}`);
    cleanup.push(async () => raw.close());
    sim.advanceTo(k.t + tf);
    await raw.waitUntil(() => raw.klines().some((f) => f.k.x));
    const served = raw.frames.map((t) => JSON.parse(t) as Envelope).find((f) => f.data.k.x)!;

    // same envelope, same keys in the same order, same value types
    expect(served.stream).toBe(recorded.stream);
    expect(Object.keys(served)).toEqual(Object.keys(recorded));
    expect(Object.keys(served.data)).toEqual(Object.keys(recorded.data));
    expect(Object.keys(served.data.k)).toEqual(Object.keys(recorded.data.k));
    expect(shape(served)).toEqual(shape(recorded));

    // both through ccxt.pro's message handler, each on a fresh exchange with the simulator's markets
    const parse = async (message: Envelope): Promise<number[][]> => {
      const ex = ccxtFor(sim);
      await ex.loadMarkets();
      ex.handleMessage(ex.client(`${sim.wsUrl}/0`), message);
      return [...ex.ohlcvs[symbol]![k.i]!] as number[][];
    };
    const fromRecording = await parse(recorded);
    const fromSimulator = await parse(served);
    expect(fromSimulator).toEqual(fromRecording);
    expect(fromRecording).toEqual([[k.t, Number(k.o), Number(k.h), Number(k.l), Number(k.c), Number(k.v)]]);
  });
});
