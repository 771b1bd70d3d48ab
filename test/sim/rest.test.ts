import { afterEach, describe, expect, it } from 'vitest';
import { connectCcxt } from '../../framework/sim/ccxt-client';
import type { ProBinance } from '../../framework/sim/ccxt-client';
import type { Timeframe } from '../../framework/core/timeframe';
import { startSimulator } from '../../framework/sim/simulator';
import type { Simulator } from '../../framework/sim/simulator';
import type { OhlcvRow } from './fixtures';
import { readRows, rowsToBatch } from './fixtures';

const TF = 5 * 60_000;
const ROWS = readRows('BTC_USDT-5m.json');
/** 2021-03-01 00:07 UTC: the 00:05 candle is forming (its first two frames are out), 00:00 has closed. */
const START = Date.UTC(2021, 2, 1, 0, 7);

let sim: Simulator | undefined;
let ex: ProBinance | undefined;

async function setup(): Promise<{ sim: Simulator; ex: ProBinance }> {
  sim = await startSimulator({
    markets: [{ symbol: 'BTC/USDT', timeframe: '5m', candles: rowsToBatch(ROWS) }],
    startTime: START,
    speed: 0,
  });
  ex = connectCcxt(sim);
  return { sim, ex };
}

afterEach(async () => {
  await ex?.close();
  await sim?.stop();
  ex = undefined;
  sim = undefined;
});

/** Dataset rows visible at exchange time `now`: open time ≤ now. */
function visibleRows(now: number): OhlcvRow[] {
  return ROWS.filter((r) => r[0] <= now);
}

async function getJson(url: string): Promise<{ status: number; headers: Headers; body: unknown }> {
  const res = await fetch(url);
  return { status: res.status, headers: res.headers, body: await res.json() };
}

describe('simulator REST through real ccxt', () => {
  it('fetchTime returns the exchange clock, which moves only with advanceTo at speed 0', async () => {
    const { sim, ex } = await setup();
    expect(await ex.fetchTime()).toBe(START);
    sim.advanceTo(START + 12_345);
    expect(await ex.fetchTime()).toBe(START + 12_345);
    expect(sim.clock()).toBe(START + 12_345);
  });

  it('loadMarkets parses the simulated exchangeInfo into an active BTC/USDT spot market', async () => {
    const { ex } = await setup();
    const markets = await ex.loadMarkets();
    expect(Object.keys(markets)).toEqual(['BTC/USDT']);
    const m = markets['BTC/USDT']!;
    expect(m.id).toBe('BTCUSDT');
    expect(m.spot).toBe(true);
    expect(m.type).toBe('spot');
    expect(m.active).toBe(true);
    expect(m.base).toBe('BTC');
    expect(m.quote).toBe('USDT');
    // BTC/USDT prices in the 5m file have at most 2 decimals → tick 0.01
    expect(m.precision.price).toBe(0.01);
  });

  it('fetchOHLCV paging (since, limit 1000) returns exactly the dataset up to the clock, then the forming candle', async () => {
    const { sim, ex } = await setup();
    const got: number[][] = [];
    let since = ROWS[0]![0];
    for (;;) {
      const page = await ex.fetchOHLCV('BTC/USDT', '5m', since, 1000);
      expect(page.length).toBeLessThanOrEqual(1000);
      got.push(...(page as number[][]));
      if (page.length < 1000) break;
      since = page.at(-1)![0]! + TF;
    }
    const expected = visibleRows(START);
    expect(got.length).toBe(expected.length);
    const closed = expected.filter((r) => r[0] + TF <= START);
    expect(closed.length).toBe(expected.length - 1);
    expect(got.slice(0, -1)).toEqual(closed);
    // the last one is the forming 00:05 candle: open as in the dataset, range inside the final one, partial volume
    const forming = got.at(-1)!;
    const final = expected.at(-1)!;
    expect(forming[0]).toBe(Date.UTC(2021, 2, 1, 0, 5));
    expect(forming[1]).toBe(final[1]);
    expect(forming[2]).toBeLessThanOrEqual(final[2]);
    expect(forming[3]).toBeGreaterThanOrEqual(final[3]);
    expect(forming[5]).toBeLessThan(final[5]);
    expect(sim.stats.restRequests).toBeGreaterThan(expected.length / 1000);
  });

  it('never shows a future candle as the clock advances', async () => {
    const { sim, ex } = await setup();
    for (const minutes of [1, 3, 5, 17, 60, 61, 300, 1441]) {
      sim.advanceTo(START + minutes * 60_000);
      const now = sim.clock();
      const latest = await ex.fetchOHLCV('BTC/USDT', '5m', undefined, 5);
      const expectedLast = visibleRows(now).at(-1)!;
      expect(latest.at(-1)![0]).toBe(expectedLast[0]);
      expect(latest.every((c) => c[0]! <= now)).toBe(true);
      expect(await ex.fetchOHLCV('BTC/USDT', '5m', now + 1, 10)).toEqual([]);
    }
  });
});

/** Decimal places of `x` as JavaScript prints it (`String(x)`, exponent notation included), capped at 8. */
function printedDecimals(x: number): number {
  const [mantissa = '', exponent] = String(x).split('e-');
  const decimals = (mantissa.split('.')[1] ?? '').length + (exponent === undefined ? 0 : Number(exponent));
  return Math.min(8, decimals);
}

describe('simulator exchangeInfo filters', () => {
  it('gives each market the tick size and lot step of the most decimals its candles print with', async () => {
    const files = [
      ['BTC_USDT-1m.json', '1m'],
      ['BTC_USDT-5m.json', '5m'],
      ['BTC_USDT-1h.json', '1h'],
      ['ETH_USDT-5m.json', '5m'],
      ['ETH_USDT-1h.json', '1h'],
    ] as const;
    const sets: { timeframe: Timeframe; rows: OhlcvRow[] }[] = files.map(([file, timeframe]) => ({ timeframe, rows: readRows(file) }));
    // In the last candle only: one more decimal than any before it, and prices printed in exponent notation (5e-7).
    const lastCandle = (rows: OhlcvRow[], price: number, volume: number): OhlcvRow[] => [
      ...rows.slice(0, -1),
      [rows.at(-1)![0], price, price, price, price, volume],
    ];
    sets.push(
      { timeframe: '1h', rows: lastCandle(sets[2]!.rows, 1234.567, 1.5) },
      { timeframe: '1h', rows: lastCandle(sets[4]!.rows, 5e-7, 1.123456789) },
    );
    const markets = sets.map(({ timeframe, rows }, i) => ({ symbol: `C${i}/USDT`, timeframe, candles: rowsToBatch(rows) }));
    sim = await startSimulator({ markets, startTime: START, speed: 0 });
    const info = (await getJson(`${sim.restUrl}/api/v3/exchangeInfo`)).body as {
      symbols: { symbol: string; filters: { filterType: string; tickSize?: string; stepSize?: string }[] }[];
    };
    const expected = sets.map(({ rows }, i) => {
      const price = rows.reduce((most, row) => Math.max(most, ...row.slice(1, 5).map(printedDecimals)), 0);
      const volume = rows.reduce((most, row) => Math.max(most, printedDecimals(row[5])), 0);
      return [`C${i}USDT`, (10 ** -price).toFixed(8), (10 ** -volume).toFixed(8)];
    });
    const served = info.symbols.map((s) => [
      s.symbol,
      s.filters.find((f) => f.filterType === 'PRICE_FILTER')?.tickSize,
      s.filters.find((f) => f.filterType === 'LOT_SIZE')?.stepSize,
    ]);
    expect(served).toEqual(expected);
    expect(served.slice(-2).map(([, tick]) => tick)).toEqual(['0.00100000', '0.00000010']);
  });
});

describe('simulator REST, raw HTTP (Binance semantics and errors)', () => {
  it('serves ping, time, exchangeInfo and weight headers', async () => {
    const { sim } = await setup();
    const api = `${sim.restUrl}/api/v3`;
    expect((await getJson(`${api}/ping`)).body).toEqual({});
    const time = await getJson(`${api}/time`);
    expect(time.body).toEqual({ serverTime: START });
    expect(Number(time.headers.get('x-mbx-used-weight-1m'))).toBeGreaterThan(0);
    const info = (await getJson(`${api}/exchangeInfo`)).body as { symbols: { symbol: string; status: string }[] };
    expect(info.symbols.map((s) => [s.symbol, s.status])).toEqual([['BTCUSDT', 'TRADING']]);
    const unknown = await getJson(`${api}/exchangeInfo?symbol=ETHUSDT`);
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual({ code: -1121, msg: 'Invalid symbol.' });
  });

  it('answers klines with 12-field rows, default limit 500, cap 1000, [startTime, endTime] windows', async () => {
    const { sim } = await setup();
    const klines = `${sim.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=5m`;
    const visible = visibleRows(START);

    const def = (await getJson(klines)).body as unknown[][];
    expect(def.length).toBe(500);
    expect(def.map((r) => r[0])).toEqual(visible.slice(-500).map((r) => r[0]));
    const row = def[0]!;
    expect(row.length).toBe(12);
    expect(row.map((v) => typeof v)).toEqual([
      'number', 'string', 'string', 'string', 'string', 'string', 'number', 'string', 'number', 'string', 'string', 'string',
    ]);
    expect(row[6]).toBe((row[0] as number) + TF - 1);
    for (const i of [1, 2, 3, 4, 5, 7, 9, 10]) expect(row[i]).toMatch(/^\d+\.\d{8}$/);

    expect(((await getJson(`${klines}&limit=1500`)).body as unknown[]).length).toBe(1000);

    const [from, to] = [visible[100]![0], visible[110]![0]];
    const window = (await getJson(`${klines}&startTime=${from}&endTime=${to}`)).body as unknown[][];
    expect(window.map((r) => r[0])).toEqual(visible.filter((r) => r[0] >= from && r[0] <= to).map((r) => r[0]));

    const tail = (await getJson(`${klines}&endTime=${to}&limit=3`)).body as unknown[][];
    expect(tail.map((r) => r[0])).toEqual(visible.filter((r) => r[0] <= to).slice(-3).map((r) => r[0]));

    const head = (await getJson(`${klines}&startTime=${from + 1}&limit=2`)).body as unknown[][];
    expect(head.map((r) => r[0])).toEqual(visible.filter((r) => r[0] >= from + 1).slice(0, 2).map((r) => r[0]));
  });

  it('answers bad requests with Binance error bodies and HTTP 400', async () => {
    const { sim } = await setup();
    const api = `${sim.restUrl}/api/v3/klines`;
    const cases: [string, number][] = [
      ['?symbol=ETHUSDT&interval=5m', -1121],
      ['?symbol=BTCUSDT&interval=1h', -1121],
      ['?symbol=BTCUSDT&interval=7m', -1120],
      ['?interval=5m', -1102],
      ['?symbol=BTCUSDT', -1102],
      ['?symbol=BTCUSDT&interval=5m&limit=abc', -1100],
      ['?symbol=BTCUSDT&interval=5m&limit=0', -1130],
      ['?symbol=BTCUSDT&interval=5m&startTime=2000&endTime=1000', -1023],
    ];
    for (const [query, code] of cases) {
      const res = await getJson(`${api}${query}`);
      expect(res.status, query).toBe(400);
      expect((res.body as { code: number }).code, query).toBe(code);
    }
    const missing = await getJson(`${sim.restUrl}/api/v3/depth?symbol=BTCUSDT`);
    expect(missing.status).toBe(404);
  });
});

describe('the simulator ending a market while running (Simulator.endData)', () => {
  it('streams and serves no candle after the last one, and refuses to take back a candle already shown', async () => {
    const { sim, ex } = await setup();
    // 00:05 is forming at START (00:07): 00:10 has not opened, so it can be made the last candle; 00:00's successor
    // (00:05) has opened, so 00:00 cannot.
    const last = Date.UTC(2021, 2, 1, 0, 10);
    expect(() => sim.endData('BTC/USDT', '5m', last - 2 * TF)).toThrow(/opened at .* before the exchange's now/);
    expect(() => sim.endData('BTC/USDT', '5m', last + 60_000)).toThrow(/has no candle at/);
    sim.endData('BTC/USDT', '5m', last);
    const events = sim.stats.klineEvents;
    sim.advanceTo(START + 12 * TF);
    // Past the end, the stream plays 00:05's remaining frames and 00:10's (the dataset's rows say which exist), no more.
    const played = sim.stats.klineEvents - events;
    sim.advanceTo(START + 24 * TF);
    expect(sim.stats.klineEvents - events).toBe(played);
    const candles = await ex.fetchOHLCV('BTC/USDT', '5m', undefined, 1_000);
    expect(candles.at(-1)![0]).toBe(last);
    expect(candles.map((c) => c[0])).toEqual(visibleRows(last).map((r) => r[0]).slice(-candles.length));
  });
});
