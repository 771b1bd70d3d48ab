/**
 * The trading journal under a real SIGKILL: a child process (test/support/trading-journal-child.ts) trades shipped
 * candles with a scaled strategy, journaling to trading.jsonl, and is killed at a precise point (right after a
 * checkpoint, or after acting on a candle but before its checkpoint); the same command is run again and restores the
 * broker from the journal. After several kills, the journal must hold exactly the fills, trades and order events of one
 * uninterrupted run over the same candles (no order made twice, none lost).
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { OrderEvent } from '../../framework/broker/orders';
import { PaperBroker } from '../../framework/broker/paper-broker';
import { readTradingJournal, TRADING_FILE, TradingJournal } from '../../framework/report/trading-journal';
import { scalingRule } from '../support/scaling-rule';
import { JOURNAL_BROKER, journalCandles } from '../support/trading-journal-child';

const REPO = path.resolve(import.meta.dirname, '../..');
const CHILD = path.join(REPO, 'test/support/trading-journal-child.ts');
const candles = journalCandles();
const roots: string[] = [];
afterAll(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })));

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'trading-journal-'));
  roots.push(dir);
  return dir;
}

/** Runs the child on `dir` (paused and SIGKILLed at `pause`, or to the end); returns its stdout lines. */
function runChild(dir: string, pause?: string): Promise<string[]> {
  const child = spawn(process.execPath, ['bin/run.mjs', CHILD], {
    cwd: REPO,
    env: { ...process.env, TJ_DIR: dir, ...(pause !== undefined && { TJ_PAUSE: pause }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      if (line.startsWith('paused ')) child.kill('SIGKILL');
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal === 'SIGKILL' || (code === 0 && lines.at(-1) === 'done')) resolve(lines);
      else reject(new Error(`child exited with code ${code}, signal ${signal}:\n${stderr}`));
    });
  });
}

/** An order event as compared: id, status, quantities, target. */
function shown(e: OrderEvent): string {
  return `${e.order.clientOrderId} ${e.order.status} ${e.order.quantity} ${e.order.filledQuantity} ${e.targetQuantity}`;
}

describe('trading.jsonl across SIGKILLs', () => {
  const whole = new PaperBroker(JOURNAL_BROKER);
  const events: OrderEvent[] = [];
  whole.addOrderListener((e) => events.push(e));
  candles.forEach((candle, i) => {
    whole.onCandle(candle);
    const signal = scalingRule(candles, i, whole.account);
    if (signal !== null) whole.submit(signal, candle);
  });
  whole.closeAll(candles.at(-1)!);

  it('restores the broker after each kill and ends with the uninterrupted run’s fills, trades and order events', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    // Kill points: right after a checkpoint, and after acting on a candle whose checkpoint is not written (its
    // fills and its decision are lost with the process and must be made again, with the same client order ids).
    const decided = candles.findIndex((c, i) => i > 150 && i < 250 && events.some((e) => e.order.decidedAt === c.openTime && e.order.status === 'accepted' && e.order.type === 'market'));
    const held = whole.fills.find((f) => f.reason === 'partial_exit')!;
    const heldAt = candles.findIndex((c) => c.openTime === held.time);
    const points: [string, number][] = [['after', heldAt - 1], ['before', decided], ['after', decided + 120]];
    const pauses = points.sort((a, b) => a[1] - b[1]).map(([when, at]) => `${when}:${at}`);
    let next = 0;
    for (const pause of pauses) {
      const lines = await runChild(dir, pause);
      expect(lines[0]).toBe(`ready ${next}`);
      const [when, at] = pause.split(':') as [string, string];
      expect(lines.at(-1)).toBe(`paused ${at}`);
      next = when === 'after' ? Number(at) + 1 : Number(at); // a candle without its checkpoint is acted on again
    }
    const last = await runChild(dir);
    expect(last[0]).toBe(`ready ${next}`);
    expect(last.at(-1)).toBe('done');

    const journal = readTradingJournal(dir);
    expect(journal.fills).toEqual(whole.fills);
    expect(journal.trades).toEqual(whole.trades);
    expect(journal.events.map(shown)).toEqual(events.map(shown));
    expect(journal.state?.position).toBeNull();
    expect(whole.trades.length).toBeGreaterThan(3);
    expect(new Set(whole.fills.map((f) => f.reason))).toContain('add');
  });

  it('cuts what follows the last checkpoint (a torn line, a checkpoint cut short) before appending', () => {
    const dir = tempDir();
    const broker = new PaperBroker(JOURNAL_BROKER);
    const journal = TradingJournal.open(dir, broker);
    for (let i = 0; i < 30; i++) {
      broker.onCandle(candles[i]!);
      const signal = scalingRule(candles, i, broker.account);
      if (signal !== null) broker.submit(signal, candles[i]!);
      journal.checkpoint(candles[i]!.openTime);
    }
    journal.close();
    const file = path.join(dir, TRADING_FILE);
    const durable = readFileSync(file, 'utf8');
    appendFileSync(file, '{"kind":"fill","fill":{"time":1}}\n{"kind":"order","ord');
    expect(() => readTradingJournal(dir)).not.toThrow();
    const { state, fills } = readTradingJournal(dir);
    expect(state).toEqual(JSON.parse(JSON.stringify(broker.snapshot())));
    expect(fills).toEqual(broker.fills);
    TradingJournal.open(dir, PaperBroker.restore(JOURNAL_BROKER, state!)).close();
    expect(readFileSync(file, 'utf8')).toBe(durable);
    const lines = durable.trim().split('\n').map((l) => JSON.parse(l) as { kind: string });
    expect(lines.filter((l) => l.kind === 'state')).toHaveLength(30);
    expect(lines.some((l) => l.kind === 'position')).toBe(true);
  });
});
