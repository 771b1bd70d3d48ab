import { hashParameters } from '../../framework/strategy/parameters';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_BROKER_CONFIG } from '../../framework/broker/broker-config';
import type { Trade } from '../../framework/broker/types';
import { FrameworkError } from '../../framework/core/errors';
import type { Metrics } from '../../framework/report/metrics';
import type { RunSummary, SignalRecord } from '../../framework/report/run-summary';
import { createRunDir, writeRunArtifacts } from '../../framework/report/run-writer';
import { readEquityFile, writeEquityFile } from '../../framework/report/equity-file';
import { readSignalsFile } from '../../framework/report/signals-file';
import { SignalJournal } from '../../framework/report/signal-journal';
import { readTradesFile } from '../../framework/report/trades-file';
import { tableFromIPC } from 'apache-arrow';
import { readParquet } from 'parquet-wasm';
import { readDataset } from '../../framework/store/partitions';
import { formatReport } from '../../framework/report/table';

const HOUR = 3_600_000;
const T0 = Date.UTC(2021, 0, 2, 3, 4, 5);
const root = mkdtempSync(join(tmpdir(), 'runs-'));
/** A candle file of the shipped datasets: Parquet, but not an equity curve. */
const CANDLE_DIR = join(import.meta.dirname, '../../datasets/binance/BTC_USDT/1h');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const metrics: Metrics = {
  startEquity: 10_000,
  endEquity: 12_345.678,
  totalReturn: 0.2345678,
  cagr: 1.5,
  sharpe: 2.345,
  sortino: null,
  calmar: 15,
  maxDrawdown: 0.1,
  maxDrawdownDuration: 2 * 24 * HOUR + 3 * HOUR,
  trades: 1,
  winRate: 1,
  profitFactor: Number.POSITIVE_INFINITY,
  expectancy: 2_345.678,
  expectancyFraction: 0.2345,
  exposure: 0.5,
  buyAndHoldReturn: -0.05,
};

const summary: RunSummary = {
  runId: 'x',
  mode: 'backtest',
  strategy: { name: 'TwoUp', parameters: { hold: 5, stop: 0.02 } },
  subscription: { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' },
  timeframe: '1h',
  firstCandle: T0,
  lastCandle: T0 + 3 * HOUR,
  candles: 4,
  broker: DEFAULT_BROKER_CONFIG,
  metrics,
  startedAt: T0 + 10 * HOUR,
  finishedAt: T0 + 10 * HOUR + 1500,
  durationMs: 1500,
};

const trade: Trade = {
  side: 'long',
  entryTime: T0 + HOUR,
  entryPrice: 100,
  exitTime: T0 + 3 * HOUR,
  exitPrice: 123.45,
  quantity: 99.8,
  fees: 22.3,
  pnl: 2_345.678,
  returnFraction: 0.2345,
  exitReason: 'take_profit',
  entryTag: 'up2',
};

const candle = { openTime: T0, open: 100, high: 101, low: 99, close: 100.5, volume: 3 };
const signal: SignalRecord = {
  strategy: { name: 'sma', parameters: { period: 3 }, parametersHash: hashParameters({ period: 3 }) },
  subscription: { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' },
  openTime: T0,
  provenance: { source: 'websocket', receivedAt: T0 + 3_600_123 },
  action: 'enter_long',
  signal: { action: 'enter_long', stopLoss: 0.02 },
  candle,
  indicators: { open_time: T0, open: 100, high: 101, low: 99, close: 100.5, volume: 3, sma: Number.NaN, change: 0.5 },
  acted: true,
};

describe('createRunDir', () => {
  it('names the run YYYYMMDD-HHMMSS-<strategy>-<4 hex> in UTC and never reuses a directory', () => {
    const a = createRunDir(join(root, 'nested', 'runs'), 'My Strat!', T0);
    const b = createRunDir(join(root, 'nested', 'runs'), 'My Strat!', T0);
    expect(a.runId).toMatch(/^20210102-030405-My-Strat-[0-9a-f]{4}$/);
    expect(b.runId).not.toBe(a.runId);
    expect(a.dir).toBe(join(root, 'nested', 'runs', a.runId));
    expect(readdirSync(join(root, 'nested', 'runs')).sort()).toEqual([a.runId, b.runId].sort());
    expect(() => createRunDir(root, '***')).toThrow(FrameworkError);
  });
});

describe('writeRunArtifacts', () => {
  it('writes summary.json with epoch ms plus ISO times, trades.parquet, signals.parquet, equity.parquet, and refuses to overwrite', async () => {
    const { dir, runId } = createRunDir(root, 'TwoUp', T0);
    const equity = {
      time: Float64Array.of(T0, T0 + HOUR),
      equity: Float64Array.of(10_000, 10_050),
      cash: Float64Array.of(10_000, 0),
      positionValue: Float64Array.of(0, 10_050),
    };
    const short: Trade = { ...trade, side: 'short', entryTime: T0 + 4 * HOUR, exitTime: T0 + 5 * HOUR, pnl: -12.5, exitReason: 'end_of_data' };
    const { entryTag: _, ...untagged } = short;
    const files = await writeRunArtifacts(dir, { summary: { ...summary, runId }, trades: [trade, untagged], signals: SignalJournal.of([signal]), equity });
    expect(readdirSync(dir).sort()).toEqual(['equity.parquet', 'signals.parquet', 'summary.json', 'trades.parquet']);

    const written = JSON.parse(readFileSync(files.summary, 'utf8')) as Record<string, unknown>;
    expect(written).toMatchObject({ runId, firstCandle: T0, firstCandleIso: '2021-01-02T03:04:05.000Z' });
    expect(written).toMatchObject({ lastCandleIso: '2021-01-02T06:04:05.000Z', finishedAtIso: '2021-01-02T13:04:06.500Z' });
    expect(written.metrics).toMatchObject({ profitFactor: 'Infinity', sortino: null, sharpe: 2.345 });

    expect(readTradesFile(files.trades)).toEqual([trade, untagged]);
    // Plain Parquet, as any reader sees it: times as UTC timestamps, a missing tag as null.
    const table = tableFromIPC(readParquet(readFileSync(files.trades)).intoIPCStream());
    expect(table.schema.fields.map((f) => f.name)).toEqual([
      'side', 'entry_time', 'entry_price', 'exit_time', 'exit_price', 'quantity', 'fees', 'pnl', 'return_fraction',
      'exit_reason', 'entry_tag', 'exit_tag',
    ]);
    expect(Number(table.get(1)!['entry_time'])).toBe(T0 + 4 * HOUR);
    expect(table.get(1)!['entry_tag']).toBeNull();
    expect(table.get(0)!['entry_tag']).toBe('up2');

    const [read] = readSignalsFile(files.signals!);
    expect(read).toEqual(signal);
    expect(Number.isNaN(read!.indicators['sma'])).toBe(true);

    expect(readEquityFile(files.equity)).toEqual(equity);

    const before = readFileSync(files.summary, 'utf8');
    await expect(writeRunArtifacts(dir, { summary, trades: [], signals: SignalJournal.of([]), equity })).rejects.toThrow(/already exists/);
    expect(readFileSync(files.summary, 'utf8')).toBe(before);
  });

  it('writes empty trades and journal files when there are no trades or signals', async () => {
    const { dir } = createRunDir(root, 'Empty', T0);
    const none = { time: new Float64Array(0), equity: new Float64Array(0), cash: new Float64Array(0), positionValue: new Float64Array(0) };
    const files = await writeRunArtifacts(dir, { summary, trades: [], signals: SignalJournal.of([]), equity: none });
    expect(readTradesFile(files.trades)).toEqual([]);
    expect(readSignalsFile(files.signals!)).toEqual([]);
  });
});

describe('formatReport', () => {
  it('renders an aligned table: percents with %, money with the quote currency, n/a and ∞', () => {
    const text = formatReport(summary);
    const [warning, ...tableLines] = text.split('\n').reverse();
    const lines = tableLines.reverse();
    expect(new Set(lines.map((l) => l.length)).size).toBe(1); // every line the same width: aligned
    // 4 candles of 1h: 4 hours = 0.17 days of metrics, far below the 30 days annualised figures need.
    expect(warning).toBe(
      'Warning: The metrics cover only 4 candles (0.17 days): annualised figures (CAGR, Sharpe, Sortino, Calmar) ' +
        'extrapolate them to a year and mean little over less than 30 days.',
    );
    const row = (label: string): string => lines.find((l) => l.includes(`│ ${label} `)) ?? `missing ${label}`;
    expect(row('Total return')).toContain('23.46%');
    expect(row('End equity')).toContain('12,345.68 USDT');
    expect(row('Expectancy')).toContain('2,345.68 USDT');
    expect(row('Buy & hold return')).toContain('-5.00%');
    expect(row('Sortino')).toContain('n/a');
    expect(row('Sharpe')).toContain('2.35');
    expect(row('Profit factor')).toContain('∞');
    expect(row('Max drawdown duration')).toContain('2d 3h');
    expect(row('Strategy')).toContain('TwoUp (hold=5, stop=0.02)');
    expect(row('Market')).toContain('binance BTC/USDT 1h');
    expect(row('Broker')).toContain('fee 0.100%, slippage 0 bps, stake 100.00% of equity');
    expect(text).not.toMatch(/\u001b\[/); // no colour codes
  });
});

describe('readEquityFile', () => {
  it('names the file and the problem when it is not an equity file', () => {
    const dir = mkdtempSync(join(root, 'not-equity-'));
    const notParquet = join(dir, 'equity.parquet');
    writeFileSync(notParquet, '{"time":0}\n');
    expect(() => readEquityFile(notParquet)).toThrow(new RegExp(`${notParquet}: not a readable Parquet file`));
    const candleFile = readdirSync(CANDLE_DIR).find((name) => name.endsWith('.parquet'))!;
    expect(() => readEquityFile(join(CANDLE_DIR, candleFile))).toThrow(/not an equity file: columns are \[open_time, open/);
  });
});

describe('writeEquityFile', () => {
  // The shipped 5m candles: 66,000 rows, more than one row group of 65,536; their real prices serve as the values.
  const candles = readDataset('datasets', { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '5m' });
  const curve = { time: candles.openTime, equity: candles.close, cash: candles.open, positionValue: candles.low };

  it('writes a curve longer than one row group that reads back exactly', async () => {
    expect(curve.time.length).toBeGreaterThan(65_536);
    const path = join(mkdtempSync(join(root, 'equity-')), 'equity.parquet');
    await writeEquityFile(path, curve);
    expect(readEquityFile(path)).toEqual({
      time: curve.time.slice(),
      equity: curve.equity.slice(),
      cash: curve.cash.slice(),
      positionValue: curve.positionValue.slice(),
    });
  });

  it('creates no file when a time is not an integer number of ms', async () => {
    const path = join(mkdtempSync(join(root, 'equity-')), 'equity.parquet');
    const time = curve.time.slice();
    time[65_600] = time[65_600]! + 0.5;
    await expect(writeEquityFile(path, { ...curve, time })).rejects.toThrow(/time of row 65600 is .*\.5, expected an integer number of ms/);
    expect(existsSync(path)).toBe(false);
  });
});
