import { hashParameters } from '../../framework/strategy/parameters';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { brokerConfig } from '../../framework/broker/broker-config';
import { PaperBroker } from '../../framework/broker/paper-broker';
import type { Candle } from '../../framework/core/candle';
import { computeMetrics } from '../../framework/report/metrics';
import type { RunSummary, SignalRecord } from '../../framework/report/run-summary';
import { createRunDir, writeRunArtifacts } from '../../framework/report/run-writer';
import { readSignalsFile } from '../../framework/report/signals-file';
import { SignalJournal } from '../../framework/report/signal-journal';
import { readTradesFile } from '../../framework/report/trades-file';
import { tableFromIPC } from 'apache-arrow';
import { readParquet } from 'parquet-wasm';
import { formatReport } from '../../framework/report/table';
import type { Signal } from '../../framework/strategy/signal';
import { loadJsonCandles } from '../support/shared-data';

/** Binance BTC/USDT 1h, 2020-12-01 → 2021-07-17 (see ../shared/data/SOURCES.md). */
const candles: Candle[] = loadJsonCandles('BTC_USDT-1h.json');
const HOUR = 3_600_000;
const root = mkdtempSync(join(tmpdir(), 'real-run-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The test's strategy: long after two rising closes in a row, with a 1.5% stop; exit after 5 candles held. */
function decide(i: number, heldSince: number | null): Signal | null {
  if (heldSince !== null) return i - heldSince >= 5 ? { action: 'exit_long', tag: 'time' } : null;
  const [a, b, x] = [candles[i - 2]?.close, candles[i - 1]?.close, candles[i]!.close];
  return a !== undefined && b !== undefined && x > b && b > a ? { action: 'enter_long', stopLoss: 0.015, tag: 'up2' } : null;
}

describe('a backtest of BTC/USDT 1h through broker, metrics and run writer', async () => {
  const startedAt = Date.now();
  const config = brokerConfig({ feeRate: 0.001, slippageBps: 2 });
  const broker = new PaperBroker(config);
  const index = new Map(candles.map((c, i) => [c.openTime, i]));
  const signals: SignalRecord[] = [];
  let invariantBroken = 0;
  candles.forEach((candle, i) => {
    broker.onCandle(candle);
    const p = broker.position;
    const value = p === null ? 0 : p.quantity * candle.close;
    if (Math.abs(broker.equity - broker.cash - value) > 1e-9 * broker.equity) invariantBroken += 1;
    const signal = decide(i, p === null ? null : index.get(p.openedAt)!);
    if (signal !== null) {
      const decision = broker.submit(signal, candle);
      const { openTime, open, high, low, close, volume } = candle;
      const indicators = { open_time: openTime, open, high, low, close, volume, change: close - (candles[i - 1]?.close ?? Number.NaN) };
      signals.push({
        strategy: { name: 'two-rising-closes', parameters: {}, parametersHash: hashParameters({}) },
        subscription: { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' },
        openTime: candle.openTime,
        provenance: { source: 'import', receivedAt: null },
        action: signal.action,
        signal,
        candle,
        indicators,
        ...decision,
      });
    }
  });
  const first = candles[0]!;
  const last = candles.at(-1)!;
  broker.closeAll(last);
  const curve = broker.equityCurve;
  const metrics = computeMetrics({
    equity: curve.equity,
    time: curve.time,
    timeframe: '1h',
    trades: broker.trades,
    firstOpen: first.open,
    lastClose: last.close,
    exposedCandles: broker.exposedCandles,
  });
  const { runId, dir } = createRunDir(root, 'TwoUp');
  const finishedAt = Date.now();
  const summary: RunSummary = {
    runId,
    mode: 'backtest',
    strategy: { name: 'TwoUp', parameters: { hold: 5, stopLoss: 0.015 } },
    subscription: { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' },
    timeframe: '1h',
    firstCandle: first.openTime,
    lastCandle: last.openTime,
    candles: candles.length,
    broker: config,
    metrics,
    startedAt,
    finishedAt,
    durationMs: finishedAt - startedAt,
  };
  const files = await writeRunArtifacts(dir, { summary, trades: broker.trades, signals: SignalJournal.of(signals), equity: curve });
  // equity.parquet read with parquet-wasm and apache-arrow directly, as any Parquet reader would.
  const equityTable = tableFromIPC(readParquet(readFileSync(files.equity)).intoIPCStream());
  const equityRows = equityTable.toArray().map((row: { time: bigint | number; equity: number; cash: number; position_value: number }) => ({
    time: Number(row.time),
    equity: row.equity,
    cash: row.cash,
    positionValue: row.position_value,
  }));
  const tradeRows = readTradesFile(files.trades);
  const e = equityRows.map((r) => r.equity);

  it('kept equity = cash + marked position value at every candle, also as written', () => {
    expect(invariantBroken).toBe(0);
    expect(equityRows).toHaveLength(candles.length);
    equityRows.forEach((r, i) => {
      expect(r.time).toBe(candles[i]!.openTime);
      expect(r.equity).toBe(r.cash + r.positionValue);
    });
    expect(tradeRows.length).toBeGreaterThan(200);
    expect(readSignalsFile(files.signals!)).toEqual(signals);
  });

  it('matches Sharpe and Sortino recomputed from equity.parquet', () => {
    const r = e.slice(1).map((v, i) => v / e[i]! - 1);
    const mean = r.reduce((s, x) => s + x, 0) / r.length;
    const variance = r.reduce((s, x) => s + (x - mean) ** 2, 0) / (r.length - 1);
    const perYear = (365 * 24 * HOUR) / HOUR; // 8760 candles of 1h
    expect(metrics.sharpe!).toBeCloseTo((mean / Math.sqrt(variance)) * Math.sqrt(perYear), 9);
    const downside = Math.sqrt(r.map((x) => Math.min(x, 0) ** 2).reduce((s, x) => s + x, 0) / r.length);
    expect(metrics.sortino!).toBeCloseTo((mean / downside) * Math.sqrt(perYear), 9);
    expect(metrics.totalReturn).toBeCloseTo(e.at(-1)! / 10_000 - 1, 12);
    const years = (last.openTime + HOUR - first.openTime) / (365 * 24 * HOUR);
    expect(metrics.cagr).toBeCloseTo((e.at(-1)! / 10_000) ** (1 / years) - 1, 12);
  });

  it('matches max drawdown (brute force over all peak/trough pairs) and its duration', () => {
    let worst = 0;
    for (let j = 0; j < e.length; j++) for (let i = 0; i < j; i++) worst = Math.max(worst, 1 - e[j]! / e[i]!);
    expect(metrics.maxDrawdown).toBeCloseTo(worst, 12);
    // longest time under water: from the last candle at the running maximum to the first candle back at it (or the end)
    let longest = 0;
    let peak = e[0]!;
    let peakAt = 0;
    for (let i = 1; i < e.length; i++) {
      if (e[i]! >= peak) {
        peak = e[i]!;
        peakAt = i;
        continue;
      }
      const back = e.findIndex((v, k) => k > i && v >= peak);
      longest = Math.max(longest, equityRows[back === -1 ? e.length - 1 : back]!.time - equityRows[peakAt]!.time);
    }
    expect(metrics.maxDrawdownDuration).toBe(longest);
    expect(metrics.calmar!).toBeCloseTo(metrics.cagr / worst, 12);
  });

  it('matches profit factor, win rate, expectancy and exposure recomputed from trades.parquet', () => {
    const wins = tradeRows.filter((t) => t.pnl > 0);
    const losses = tradeRows.filter((t) => t.pnl < 0);
    const profit = wins.reduce((s, t) => s + t.pnl, 0);
    const loss = -losses.reduce((s, t) => s + t.pnl, 0);
    expect(metrics.profitFactor!).toBeCloseTo(profit / loss, 12);
    expect(metrics.trades).toBe(tradeRows.length);
    expect(metrics.winRate).toBeCloseTo(wins.length / tradeRows.length, 12);
    expect(metrics.expectancy!).toBeCloseTo(tradeRows.reduce((s, t) => s + t.pnl, 0) / tradeRows.length, 9);
    expect(metrics.expectancyFraction!).toBeCloseTo(tradeRows.reduce((s, t) => s + t.returnFraction, 0) / tradeRows.length, 12);
    // exposed: entry candle through exit candle, except that a signal exit fills at the exit candle's open
    const exposed = new Set<number>();
    for (const t of tradeRows) {
      const end = index.get(t.exitTime)! - (t.exitReason === 'signal' ? 1 : 0);
      for (let i = index.get(t.entryTime)!; i <= end; i++) exposed.add(i);
    }
    expect(metrics.exposure).toBeCloseTo(exposed.size / candles.length, 12);
    expect(metrics.buyAndHoldReturn).toBeCloseTo(last.close / first.open - 1, 12);
  });

  it('writes summary.json that reads back to the metrics, and a report table', () => {
    const written = JSON.parse(readFileSync(files.summary, 'utf8')) as { metrics: unknown; runId: string };
    expect(written.runId).toBe(runId);
    expect(written.metrics).toEqual(metrics);
    const table = formatReport(summary);
    expect(table).toContain('binance BTC/USDT 1h');
    expect(table).toContain(`${(metrics.totalReturn * 100).toFixed(2)}%`);
  });
});
