/**
 * Child process of `test/broker/trading-journal.test.ts`: trades 500 shipped BTC/USDT 1h candles (from 2021-03-01)
 * with the scaling rule of `scaling-rule.ts` through a {@link PaperBroker}, journaling to `trading.jsonl` in `TJ_DIR`
 * with a checkpoint after every candle. When the journal already has a checkpoint (a run killed before), it restores
 * the broker from it and goes on with the next candle. Reports on stdout, each line written before going on:
 *
 * ```text
 * ready <i>     the broker is made (or restored); candle i is next
 * candle <i>    candle i is acted on and its checkpoint is durable
 * paused <i>    blocked for good (kill me now) at the point `TJ_PAUSE` names
 * done          all candles done, the position closed at the last close, the journal closed
 * ```
 *
 * `TJ_PAUSE`: `after:<i>` blocks once candle i's checkpoint is durable; `before:<i>` blocks after candle i was acted
 * on (its fills made, its signal submitted) but before its checkpoint; unset: never.
 *
 * Run: `TJ_DIR=<run folder> node bin/run.mjs test/support/trading-journal-child.ts`.
 */
import { writeSync } from 'node:fs';
import { brokerConfig } from '../../framework/broker/broker-config';
import { PaperBroker } from '../../framework/broker/paper-broker';
import { candleAt, type Candle } from '../../framework/core/candle';
import { replayCandles } from '../../framework/feeds/replay';
import { readTradingJournal, TradingJournal } from '../../framework/report/trading-journal';
import { scalingRule } from './scaling-rule';

/** The candles and broker settings the child and its test share. */
export function journalCandles(): Candle[] {
  const batch = replayCandles('datasets', { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' });
  const first = Array.from(batch.openTime).findIndex((t) => t >= Date.UTC(2021, 2, 1));
  return Array.from({ length: 500 }, (_, i) => candleAt(batch, first + i));
}

/** The broker settings of the child's runs. */
export const JOURNAL_BROKER = brokerConfig({ feeRate: 0.001, slippageBps: 5, amountStep: 0.00001, strategyKey: 'scaling:journal' });

function say(line: string): void {
  writeSync(1, `${line}\n`);
}

/** Says where it stopped and blocks the thread for good. */
function pause(i: number): void {
  say(`paused ${i}`);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

if (process.env['TJ_DIR'] !== undefined) {
  const dir = process.env['TJ_DIR'];
  const candles = journalCandles();
  const { state, fills, trades } = readTradingJournal(dir);
  const broker = state === null ? new PaperBroker(JOURNAL_BROKER) : PaperBroker.restore(JOURNAL_BROKER, state, { fills, trades });
  const start = state === null ? 0 : candles.findIndex((c) => c.openTime > state.lastTime);
  const journal = TradingJournal.open(dir, broker);
  const [when, at] = (process.env['TJ_PAUSE'] ?? 'never:-1').split(':') as [string, string];
  say(`ready ${start}`);
  for (let i = start; i < candles.length; i++) {
    const candle = candles[i]!;
    broker.onCandle(candle);
    const signal = scalingRule(candles, i, broker.account);
    if (signal !== null) broker.submit(signal, candle);
    if (when === 'before' && i === Number(at)) pause(i);
    journal.checkpoint(candle.openTime);
    say(`candle ${i}`);
    if (when === 'after' && i === Number(at)) pause(i);
  }
  broker.closeAll(candles.at(-1)!);
  journal.checkpoint(candles.at(-1)!.openTime);
  journal.close();
  say('done');
}
