import { describe, expect, it } from 'vitest';
import { referenceMacd } from '../support/macd';
import type { DataFrame } from 'danfojs-node';
import { sliceBatch } from '../../framework/core/candle';
import { candleDataFrame } from '../../framework/engine/indicators';
import { readDataset } from '../../framework/store/partitions';

const danfo = await import('danfojs-node');
const candles = sliceBatch(readDataset('datasets', { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' }), 0, 3_000);
const n = candles.openTime.length;

/** The frame danfo's own constructor makes from the same candles: what `candleDataFrame` must behave like. */
function reference(): DataFrame {
  return new danfo.DataFrame({
    open_time: Array.from(candles.openTime),
    open: Array.from(candles.open),
    high: Array.from(candles.high),
    low: Array.from(candles.low),
    close: Array.from(candles.close),
    volume: Array.from(candles.volume),
  });
}

/** Everything danfo keeps of a frame (reading `$data` makes the rows of a columnar frame). */
function state(df: DataFrame): Record<string, unknown> {
  const d = df as unknown as Record<string, unknown>;
  return {
    shape: df.shape,
    columns: df.columns,
    dtypes: df.dtypes,
    index: df.index,
    columnData: d['$dataIncolumnFormat'],
    rows: d['$data'],
    config: d['$config'],
    isSeries: d['$isSeries'],
    text: df.toString(),
  };
}

/** Runs the same steps on a columnar frame and on danfo's, comparing what each step returns and the final state. */
async function same(steps: (df: DataFrame) => unknown): Promise<void> {
  const fast = await candleDataFrame(candles);
  const slow = reference();
  const outcome = (df: DataFrame): unknown => {
    try {
      return { value: steps(df) };
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  };
  expect(outcome(fast)).toEqual(outcome(slow));
  expect(state(fast)).toEqual(state(slow));
  expect(fast).toBeInstanceOf(danfo.DataFrame);
}

const hist = (df: DataFrame): number[] => {
  return referenceMacd(df['close'].values as number[]).histogram;
};

describe('candleDataFrame (columnar, rows made on demand) behaves as the DataFrame danfo builds from the same columns', () => {
  it('as built', () => same(() => null));

  it('column access, Series values, index and dtypes', () =>
    same((df) => {
      const close = df['close'];
      return [close.values, close.index, close.dtypes, close.columns, df.column('open_time').values, df.getColumnData];
    }));

  it('adding indicator columns in place as strategies/macd.ts does, then reading them', () =>
    same((df) => {
      df.addColumn('macd_hist', hist(df), { inplace: true });
      df.addColumn('flag', Array.from({ length: n }, (_, i) => i % 3 === 0), { inplace: true });
      df.addColumn('sparse', Array.from({ length: n }, (_, i) => (i < 10 ? undefined : i / 7)) as number[], { inplace: true });
      return [df['macd_hist'].values, df['flag'].dtypes, df.column('sparse').values];
    }));

  it('adding a Series, at a position, by name, not in place, and replacing a column', () =>
    same((df) => {
      df.addColumn('spread', df['high'].sub(df['low']), { inplace: true, atIndex: 1 });
      df.addColumn('first', Array.from({ length: n }, () => 1), { inplace: true, atIndex: 'open' });
      df.addColumn('close', Array.from({ length: n }, (_, i) => i + 0.5), { inplace: true });
      const copy = df.addColumn('other', Array.from({ length: n }, () => 2));
      return [copy.columns, copy.values.slice(0, 3), df['spread'].values];
    }));

  it('rejects what danfo rejects, with its messages', () =>
    same((df) => {
      const errors: string[] = [];
      for (const call of [
        () => df.addColumn('short', [1, 2, 3], { inplace: true }),
        () => df.addColumn('typed', new Float64Array(n) as unknown as number[], { inplace: true }),
        () => df.addColumn('', Array.from({ length: n }, () => 0), { inplace: true }),
        () => df.addColumn('x', Array.from({ length: n }, () => 0), { inplace: true, atIndex: 'nope' }),
        () => df.column('nope'),
      ]) {
        try {
          call();
        } catch (error) {
          errors.push(String(error));
        }
      }
      return errors;
    }));

  it('a column array changed in place changes the column, not the rows, as in danfo', () =>
    same((df) => {
      const closes = df['close'].values as number[];
      closes.sort((a, b) => a - b);
      const before = df['close'].values;
      df.addColumn('after', Array.from({ length: n }, (_, i) => i), { inplace: true });
      return [before, df['close'].values];
    }));

  it('column arrays are fresh after each added column, as danfo re-makes them from its rows', () =>
    same((df) => {
      const before = df['close'].values;
      const all = df.getColumnData;
      df.addColumn('x', Array.from({ length: n }, (_, i) => i * 2), { inplace: true });
      return [before === df['close'].values, all === df.getColumnData, df.getColumnData[4] === df['close'].values];
    }));

  it('the index: read, changed in place, replaced, reset; rows made first, then columns added', () =>
    same((df) => {
      const index = df.index;
      const first = df['open'].index.slice(0, 3);
      index[1] = 'one';
      const changed = df['open'].index.slice(0, 3);
      const rows = df.values.length;
      df.addColumn('y', Array.from({ length: n }, () => 7), { inplace: true });
      df.setIndex({ column: 'open_time', inplace: true });
      const byTime = df['y'].index.slice(0, 2);
      df.resetIndex({ inplace: true });
      return [first, changed, rows, byTime, df['y'].index.slice(0, 2), df.index.length];
    }));

  it('row operations, copies, arithmetic, a new index', () =>
    same((df) => {
      df.addColumn('mid', df['high'].add(df['low']).div(2), { inplace: true });
      const head = df.head(3).values;
      const rows = df.iloc({ rows: [0, 5, 9] }).values;
      const copy = df.copy();
      copy.addColumn('c', Array.from({ length: n }, () => 3), { inplace: true });
      df.setIndex({ index: Array.from({ length: n }, (_, i) => `r${i}`), inplace: true });
      return [head, rows, copy.columns, df['mid'].index.slice(0, 3), df.loc({ rows: ['r1', 'r2'] }).values];
    }));
});
