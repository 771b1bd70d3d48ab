import { describe, expect, it } from 'vitest';
import { brokerConfig } from '../../framework/broker/broker-config';
import { PaperBroker } from '../../framework/broker/paper-broker';
import { sliceBatch } from '../../framework/core/candle';
import { StrategyLoadError, StrategyRuntimeError } from '../../framework/core/errors';
import { measureReplay } from '../../framework/engine/backtest';
import { Engine } from '../../framework/engine/engine';
import { candleDataFrame, computeIndicatorColumns, extractColumns } from '../../framework/engine/indicators';
import { replayCandles } from '../../framework/feeds/replay';
import { ColumnStrategy, type CandleColumns, type IndicatorColumns, type Signal } from '../../framework';
import { isColumnStrategy } from '../../framework/strategy/column-strategy';
import { loadStrategy } from '../../framework/strategy/loader';
import MacdCrossover from '../../strategies/macd';
import MacdOnDataFrame from '../fixtures/strategies/macd-dataframe';

const BTC_5M = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '5m' } as const;
const candles = replayCandles('datasets', BTC_5M);

/** Whether two sets of frame columns hold the same names in the same order and the same bits (Object.is). */
function sameColumns(a: Readonly<Record<string, ArrayLike<number>>>, b: Readonly<Record<string, ArrayLike<number>>>): string | null {
  if (Object.keys(a).join() !== Object.keys(b).join()) return `columns ${Object.keys(a).join()} vs ${Object.keys(b).join()}`;
  for (const name of Object.keys(a)) {
    const [x, y] = [a[name]!, b[name]!];
    if (x.length !== y.length) return `${name}: ${x.length} vs ${y.length} rows`;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return `${name}[${i}]: ${x[i]} vs ${y[i]}`;
  }
  return null;
}

async function replay(strategy: MacdCrossover | MacdOnDataFrame) {
  const broker = new PaperBroker(brokerConfig());
  const engine = new Engine({ strategy, broker, file: 'test', subscription: BTC_5M });
  const columns = await engine.replay(candles);
  return { columns, broker, metrics: measureReplay(candles, broker, BTC_5M.timeframe, strategy.warmup).metrics, signals: engine.signals };
}

class Columns extends ColumnStrategy {
  constructor(readonly make: (candles: CandleColumns) => unknown) {
    super();
  }
  getRequiredSubscriptions() {
    return [BTC_5M];
  }
  populateColumns(c: CandleColumns): IndicatorColumns {
    return this.make(c) as IndicatorColumns;
  }
  onData(): Signal | null {
    return null;
  }
}

describe('ColumnStrategy', () => {
  it('strategies/macd.ts replays as its DataFrame and technicalindicators version did: same columns, signals, trades, metrics', async () => {
    const columnar = await replay(new MacdCrossover());
    const reference = await replay(new MacdOnDataFrame());
    expect(candles.openTime.length).toBeGreaterThan(60_000);
    expect(sameColumns(columnar.columns, reference.columns)).toBeNull();
    expect(columnar.signals.length).toBeGreaterThan(3_000);
    expect(columnar.signals).toStrictEqual(reference.signals);
    expect(columnar.broker.trades).toStrictEqual(reference.broker.trades);
    expect(sameColumns({ ...columnar.broker.equityCurve }, { ...reference.broker.equityCurve })).toBeNull();
    expect(columnar.metrics).toStrictEqual(reference.metrics);
  });

  it('is told apart from a DataFrame strategy, and its populateIndicators adds the same columns to a DataFrame', async () => {
    const macd = new MacdCrossover();
    expect(isColumnStrategy(macd)).toBe(true);
    expect(isColumnStrategy(new MacdOnDataFrame())).toBe(false);
    const part = sliceBatch(candles, 0, 2_000);
    const viaFrame = extractColumns(await macd.populateIndicators(await candleDataFrame(part)), part, 'test');
    expect(sameColumns(viaFrame, await computeIndicatorColumns(macd, part, 'test'))).toBeNull();
  });

  it('keeps the Float64Arrays it returns and copies other arrays', async () => {
    const returned = new Float64Array(candles.close.length);
    const columns = await computeIndicatorColumns(
      new Columns((c) => ({ kept: returned, copied: Array.from(c.close, (x) => x > 50_000) })),
      candles,
      'test.ts',
    );
    expect(columns['kept']).toBe(returned);
    expect(columns['copied']).toBeInstanceOf(Float64Array);
    expect(Array.from(columns['copied']!.subarray(0, 3))).toEqual(Array.from(candles.close.subarray(0, 3), (x) => (x > 50_000 ? 1 : 0)));
    expect(Object.keys(columns)).toEqual(['open_time', 'open', 'high', 'low', 'close', 'volume', 'kept', 'copied']);
    expect(columns['close']).toBe(candles.close);
  });

  it.each([
    ['throws', () => { throw new Error('boom'); }, 'test.ts: populateColumns threw: boom'],
    ['returns no object', () => [1, 2], 'test.ts: populateColumns must return an object of indicator columns, e.g. { macd: Float64Array }'],
    ['returns a short column', () => ({ short: new Float64Array(3) }), `test.ts: populateColumns column "short" has 3 values for ${candles.close.length} candles; it must have one per candle`],
    ['returns a candle column', (c: CandleColumns) => ({ close: c.close }), 'test.ts: populateColumns returned a column "close": open_time and the OHLCV columns are the candles\' own'],
    ['returns a number', () => ({ level: 5 }), 'test.ts: populateColumns column "level" is not an array (got 5); return one value per candle'],
    ['returns strings', (c: CandleColumns) => ({ label: Array.from(c.close, () => 'up') }), 'test.ts: populateColumns column "label" holds "up"; indicator columns must be numbers or booleans'],
  ])('names the file and the problem when populateColumns %s', async (_, make, message) => {
    const error = await computeIndicatorColumns(new Columns(make), candles, 'test.ts').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StrategyRuntimeError);
    expect((error as Error).message).toBe(message);
  });

  it('is refused at load without populateColumns', async () => {
    const file = 'test/fixtures/strategies/column-without-columns.ts';
    const error = await loadStrategy(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StrategyLoadError);
    expect((error as Error).message).toBe(`${file}: class NoColumns does not implement populateColumns(candles)`);
  });
});
