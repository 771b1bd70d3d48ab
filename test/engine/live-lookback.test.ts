import { describe, expect, it } from 'vitest';
import { brokerConfig } from '../../framework/broker/broker-config';
import { PaperBroker } from '../../framework/broker/paper-broker';
import { sliceBatch, type CandleBatch } from '../../framework/core/candle';
import { describeSubscription, type Subscription } from '../../framework/core/subscription';
import { lowerBound } from '../../framework/core/search';
import { Engine } from '../../framework/engine/engine';
import { replayCandles } from '../../framework/feeds/replay';
import { loadStrategy } from '../../framework/strategy/loader';
import type DeepLookback from '../fixtures/strategies/deep-lookback';

const FILE = 'test/fixtures/strategies/deep-lookback.ts';
const TRADED: Subscription = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' };
const HOURLY: Subscription = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' };
const candles = replayCandles('datasets', TRADED);
const hourly = replayCandles('datasets', HOURLY);
/** The live run starts with 20,000 candles of history (2020-12-01 … 2021-07) and acts on the next ones. */
const FIRST_LIVE = 20_000;
const LIVE_CANDLES = 30;

/** The 1h candles closed when the 15m candle of row `row` closes (as the live run waits for them). */
function hourlyClosedWith(row: number): CandleBatch {
  const closes = candles.openTime[row]! + 900_000;
  return sliceBatch(hourly, 0, lowerBound(hourly.openTime, closes - 3_600_000 + 1));
}

async function engineFor(params: Record<string, string>, warmup = 0): Promise<{ engine: Engine; strategy: DeepLookback }> {
  const loaded = await loadStrategy(FILE, params);
  const strategy = loaded.strategy as DeepLookback;
  if (warmup > 0) Object.defineProperty(strategy, 'warmup', { value: warmup });
  const engine = new Engine({ strategy, broker: new PaperBroker(brokerConfig()), file: FILE, subscription: TRADED, informative: [HOURLY] });
  return { engine, strategy };
}

/** Steps the live engine over the candles after the first `FIRST_LIVE`, as the live run hands them over. */
async function runLive(params: Record<string, string>, warmup = 0): Promise<{ reads: number[][]; engine: Engine }> {
  const { engine, strategy } = await engineFor(params, warmup);
  for (let n = FIRST_LIVE + 1; n <= FIRST_LIVE + LIVE_CANDLES; n++) {
    await engine.onClosedCandle(sliceBatch(candles, 0, n), new Map([[describeSubscription(HOURLY), hourlyClosedWith(n - 1)]]));
  }
  return { reads: strategy.reads, engine };
}

/** What the replay of the whole history up to the last live candle reads on the live candles (a fresh instance). */
async function replayReads(params: Record<string, string>): Promise<number[][]> {
  const { engine, strategy } = await engineFor(params);
  const end = FIRST_LIVE + LIVE_CANDLES;
  await engine.replay(sliceBatch(candles, 0, end), { informative: new Map([[describeSubscription(HOURLY), hourlyClosedWith(end - 1)]]) });
  return strategy.reads.slice(FIRST_LIVE);
}

describe('the live frame reads far back exactly as the replay, or throws', () => {
  it.each([2_000, 3_000])('a lookback of %i candles: every read equals the replay bit for bit', async (lookback) => {
    const params = { lookback: String(lookback), deepLookback: String(lookback) };
    const live = await runLive(params);
    const replay = await replayReads(params);
    expect(live.reads).toHaveLength(LIVE_CANDLES);
    // Real values, not the NaN before the first candle: the reads are of the history far back.
    expect(live.reads.flat().every(Number.isFinite)).toBe(true);
    expect(live.reads).toEqual(replay);
    // The engine proved a window shorter than the history (the windowed path was exercised, not the whole history).
    expect(live.engine.liveWindow).toBeGreaterThan(lookback);
    expect(live.engine.liveWindow).toBeLessThan(FIRST_LIVE);
  });

  it('a lookback that grows beyond the live window later: a clear error naming the column and the proven span', async () => {
    const deepFrom = String(candles.openTime[FIRST_LIVE + 10]!);
    const run = runLive({ lookback: '100', deepLookback: '3000', deepFrom });
    await expect(run).rejects.toThrow(
      /onData at candle 2021-.*"ema" 3000 candles back .* before the \d+ candles of the live indicator window \(proven equal to the whole history: the newest 101\); declare a `warmup` of at least 3001 candles/,
    );
  });

  it('a read beyond the proven rows that the window gets wrong: refused before acting, naming both values', async () => {
    // Reading 100 back, the window proven is W candles, its newest 101 rows proven. W − 50 candles back is 50 rows into
    // the window, where an EMA started at the window has not forgotten its start.
    const { engine } = await runLive({ lookback: '100', deepLookback: '100' });
    const deep = engine.liveWindow - 50;
    const deepFrom = String(candles.openTime[FIRST_LIVE + 10]!);
    const run = runLive({ lookback: '100', deepLookback: String(deep), deepFrom });
    await expect(run).rejects.toThrow(
      new RegExp(
        `"ema" ${deep} candles back at candle 2021-.*beyond the newest 101 candles proven equal to the whole history; ` +
          'there the live indicator window gives [\\d.]+ but the whole history \\(the replay\\) [\\d.]+',
      ),
    );
  });

  it('the same growing lookback with a warm-up declared that deep: equal to the replay', async () => {
    const params = { lookback: '100', deepLookback: '3000', deepFrom: String(candles.openTime[FIRST_LIVE + 10]!) };
    const live = await runLive(params, 3_001);
    expect(live.reads).toEqual(await replayReads(params));
  });
});
