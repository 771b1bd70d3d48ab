import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';
import { SHARED_DATA } from '../support/shared-data';
import { readDataset } from '../../framework/store/partitions';
import { CandleFileError, importCandles } from '../../framework/data/import-candles';

const scratch = mkdtempSync(path.join(tmpdir(), 'import-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type Row = [number, number, number, number, number, number];

/** Rows of a freqtrade file in ../shared/data with open times in [from, to). */
function rows(file: string, from: number, to: number): Row[] {
  return (JSON.parse(readFileSync(path.join(SHARED_DATA, file), 'utf8')) as Row[]).filter(([t]) => t >= from && t < to);
}

const MAY = Date.UTC(2021, 4, 1);
const JUNE = Date.UTC(2021, 5, 1);

describe('npm run data -- import', () => {
  const store = path.join(scratch, 'datasets');

  it('imports a freqtrade JSON file (market from its name), which verify and backtest then accept', async () => {
    const source = rows('BTC_USDT-1h.json', MAY, JUNE);
    expect(source).toHaveLength(31 * 24); // May 2021, every hour present
    const file = path.join(scratch, 'BTC_USDT-1h.json');
    writeFileSync(file, JSON.stringify(source));
    const imported = await runCli('framework/cli/data.ts', ['import', file, '--exchange', 'binance', '--datasets', store]);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain('binance BTC/USDT 1h: 744 candles imported (2021-05-01 00:00 to 2021-05-31 23:00 UTC)');
    const stored = readDataset(store, { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' });
    expect(Array.from(stored.openTime)).toEqual(source.map((r) => r[0]));
    expect(Array.from(stored.close)).toEqual(source.map((r) => r[4]));

    const verified = await runCli('framework/cli/data.ts', ['verify', 'binance/BTC_USDT/1h', '--datasets', store]);
    expect(verified.code).toBe(0);
    expect(verified.stdout.split('\n')[0]).toBe('binance BTC/USDT 1h: OK');

    // Without the lookahead check run after a backtest (--no-check): this is about the imported candles.
    const backtest = await runCli('framework/cli/backtest.ts', ['strategies/ema-cross.ts', '--datasets', store, '--runs', path.join(scratch, 'runs'), '--quiet', '--no-check']);
    expect(backtest.code).toBe(0);
    expect(backtest.stdout).toContain('744 candles');

    // The same file again is refused (the dataset exists) and leaves it as it is.
    const again = await runCli('framework/cli/data.ts', ['import', file, '--exchange', 'binance', '--datasets', store]);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toMatch(/^error: binance BTC\/USDT 1h already exists in .*; pass --force to merge the file into it$/);
  }, 240_000);

  it('imports a Binance kline CSV (12 columns, open times in µs) and a CSV with a header', async () => {
    const source = rows('ETH_USDT-5m.json', MAY, MAY + 7 * 86_400_000);
    expect(source).toHaveLength(7 * 288);
    // data.binance.vision layout: open time, o, h, l, c, v, close time, quote volume, trades, taker base, taker quote, ignore.
    const binance = source.map(([t, o, h, l, c, v]) => [t * 1000, o, h, l, c, v, (t + 299_999) * 1000, v * c, 100, v / 2, (v * c) / 2, 0].join(','));
    const binanceFile = path.join(scratch, 'ETHUSDT-5m-2021-05.csv');
    writeFileSync(binanceFile, `${binance.join('\n')}\n`);
    const csv = await runCli('framework/cli/data.ts', ['import', binanceFile, '--exchange', 'binance', '--symbol', 'ETH/USDT', '--timeframe', '5m', '--datasets', store]);
    expect(csv.code).toBe(0);
    expect(csv.stdout).toContain(`binance ETH/USDT 5m: ${7 * 288} candles imported (2021-05-01 00:00 to 2021-05-07 23:55 UTC)`);
    const stored = readDataset(store, { exchange: 'binance', symbol: 'ETH/USDT', timeframe: '5m' });
    expect(Array.from(stored.openTime)).toEqual(source.map((r) => r[0]));
    expect(Array.from(stored.volume)).toEqual(source.map((r) => r[5]));

    // The CSV with a header through importCandles, what npm run data -- import runs (as above), in this process.
    const headed = path.join(scratch, 'candles.csv');
    writeFileSync(headed, ['volume,open_time,open,high,low,close', ...source.map(([t, o, h, l, c, v]) => [v, new Date(t).toISOString(), o, h, l, c].join(','))].join('\n'));
    importCandles(headed, path.join(scratch, 'other'), { exchange: 'binance', symbol: 'ETH/USDT', timeframe: '5m' });
    const again = readDataset(path.join(scratch, 'other'), { exchange: 'binance', symbol: 'ETH/USDT', timeframe: '5m' });
    expect(Array.from(again.close)).toEqual(Array.from(stored.close));

    const verified = await runCli('framework/cli/data.ts', ['verify', 'binance', 'ETH/USDT', '5m', '--datasets', store]);
    expect(verified.code).toBe(0);
  }, 240_000);

  // Raised by importCandles, which npm run data -- import prints on one line, exit 1, as the refusal above: in this process.
  it('names the file and what is expected for a file it cannot read', () => {
    const bad = path.join(scratch, 'bad.csv');
    writeFileSync(bad, 'time,o,h,l,c,v\n1,2,3,4,5,6\n');
    const store = path.join(scratch, 'bad-store');
    let thrown: unknown;
    try {
      importCandles(bad, store, { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CandleFileError);
    expect((thrown as CandleFileError).message).toBe(
      `${bad}: the header lacks open_time, open, high, low, close, volume; expected the columns open_time,open,high,low,close,volume (or no header: Binance kline CSV, open time in ms or µs first)`,
    );
    expect(existsSync(store)).toBe(false);
  });
});

describe('a strategy file outside the checkout', () => {
  it("loads, importing 'technicalindicators' and the framework as 'candlecraft'", async () => {
    const dir = path.join(scratch, 'elsewhere');
    const file = path.join(dir, 'my-sma.ts');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      file,
      `import { SMA } from 'technicalindicators';
import { BaseStrategy, alignToCandles, type Candle, type DataFrame, type Frame, type Signal } from 'candlecraft';

export default class MySma extends BaseStrategy {
  override readonly name = 'my-sma';
  override readonly params = { period: 20 };
  override readonly warmup = 20;
  getRequiredSubscriptions() {
    return [{ exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' }];
  }
  populateIndicators(df: DataFrame): DataFrame {
    const closes = df['close'].values as number[];
    df.addColumn('sma', alignToCandles(SMA.calculate({ period: this.params.period, values: closes }), closes.length), { inplace: true });
    return df;
  }
  onData(candle: Candle, frame: Frame): Signal | null {
    if (candle.close > frame.value('sma') && frame.value('close', 1) <= frame.value('sma', 1)) return { action: 'enter_long' };
    if (candle.close < frame.value('sma')) return { action: 'exit_long' };
    return null;
  }
}
`,
    );
    // Without the lookahead check run after a backtest (--no-check): this is about loading the file.
    const { code, stdout, stderr } = await runCli('framework/cli/backtest.ts', [file, '--runs', path.join(scratch, 'runs-outside'), '--quiet', '--no-check', '--from', '2021-05-01', '--to', '2021-06-01']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('744 candles');
  }, 240_000);
});
