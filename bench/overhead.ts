/**
 * Engine overhead: the per-candle cost of the engine with a strategy that does nothing, against a hand-written loop
 * over the same candles' `Float64Array`s doing the same job without the framework.
 *
 * @module
 */
import { brokerConfig } from '../framework/broker/broker-config';
import { PaperBroker } from '../framework/broker/paper-broker';
import { batchLength, type CandleBatch } from '../framework/core/candle';
import { Engine } from '../framework/engine/engine';
import { loadStrategy } from '../framework/strategy/loader';

/** The do-nothing strategy of this case. */
export const NOOP_1M = 'bench/strategies/noop-1m.ts';

const RATE_FROM = 10_000;

/** ns per candle of one engine replay of the do-nothing strategy. */
export interface EngineRun {
  /** The per-candle loop (broker `onCandle`, frame cursor, `onData`, signal check), from candle 10,000 on. */
  readonly loopNsPerCandle: number;
  /** The whole replay per candle: the DataFrame build and column extraction included. */
  readonly replayNsPerCandle: number;
}

/** One replay of the do-nothing strategy over `candles` with a paper broker. */
export async function engineRun(candles: CandleBatch): Promise<EngineRun> {
  const { strategy, subscriptions } = await loadStrategy(NOOP_1M);
  const engine = new Engine({ strategy, broker: new PaperBroker(brokerConfig()), file: NOOP_1M, subscription: subscriptions[0]! });
  const n = batchLength(candles);
  let tRateFrom = Number.NaN;
  const t0 = performance.now();
  await engine.replay(candles, {
    onProgress: (done) => {
      if (done === RATE_FROM) tRateFrom = performance.now();
    },
  });
  const t1 = performance.now();
  return { loopNsPerCandle: ((t1 - tRateFrom) / (n - RATE_FROM)) * 1e6, replayNsPerCandle: ((t1 - t0) / n) * 1e6 };
}

/** A decision function that decides nothing, called per candle like `onData` (not inlined away: see {@link rawLoop}). */
type Decide = (i: number, close: number) => number;

const decideNothing: Decide = () => 0;

/**
 * The baseline: what a backtest of a do-nothing strategy must do per candle, written by hand over the `Float64Array`s:
 * read the candle's open time and OHLCV, ask the decision function, and mark equity (cash + position × close) into a
 * `Float64Array` equity curve. The decision function is passed in, so that the loop calls it like the engine calls
 * `onData`.
 *
 * @returns ns per candle.
 */
export function rawLoop(candles: CandleBatch, decide: Decide = decideNothing): number {
  const n = batchLength(candles);
  const { openTime, open, high, low, close, volume } = candles;
  const equity = new Float64Array(n);
  const time = new Float64Array(n);
  const cash = 10_000;
  let position = 0;
  let lastTime = Number.NEGATIVE_INFINITY;
  let checksum = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const t = openTime[i]!;
    if (!(t > lastTime)) throw new Error(`candle ${i} out of order`);
    lastTime = t;
    checksum += open[i]! + high[i]! + low[i]! + volume[i]!;
    const c = close[i]!;
    position += decide(i, c);
    time[i] = t;
    equity[i] = cash + position * c;
  }
  const t1 = performance.now();
  if (Number.isNaN(checksum + equity[n - 1]! + time[n - 1]!)) throw new Error('raw loop: NaN');
  return ((t1 - t0) / n) * 1e6;
}
