/**
 * Child process of `test/store/crash.test.ts`: opens a {@link LiveCandleStore}, appends real BTC/USDT 5m candles from
 * `../shared/data` with several concurrent writers, compacts every few thousand candles, and reports on stdout
 * (each line written with a blocking `writeSync` before going on, so every line printed before a SIGKILL reaches the
 * parent):
 *
 * ```text
 * ready                                          the store is open (recovery done)
 * issue <seq> <openTime> <source> <receivedAt>   just before append(); seq numbers the versions in log order
 * ack <seq>                                      after append() resolved: the candle is durable
 * paused <event> <n>                             blocked for good at the n-th WalEvent of that type (kill me now)
 * done                                           all appended and the store closed
 * ```
 *
 * Environment: `WAL_ROOT` (datasets folder), `WAL_START` (first row of `BTC_USDT-5m.json`), `WAL_COUNT` (rows to
 * append), `WAL_WRITERS` (concurrent writers), `WAL_COMPACT_EVERY` (candles), `WAL_REVISE_EVERY` (after every k-th
 * row, append again the row 10 before it as a `rest` version; 0 = never), `WAL_PAUSE_AT` (`<event type>:<n>`, e.g.
 * `rotated:2`; unset = never).
 *
 * Run: `node bin/run.mjs test/support/wal-crash-writer.ts`.
 */
import { writeSync } from 'node:fs';
import type { StoredCandle } from '../../framework/core/candle';
import { LiveCandleStore } from '../../framework/store/live-store';
import type { WalEvent } from '../../framework/store/wal';
import { loadJsonCandles } from './shared-data';

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`wal-crash-writer: environment variable ${name} is required`);
  return value;
};

const root = env('WAL_ROOT');
const start = Number(env('WAL_START'));
const count = Number(env('WAL_COUNT'));
const writers = Number(env('WAL_WRITERS', '8'));
const compactEvery = Number(env('WAL_COMPACT_EVERY', '2000'));
const reviseEvery = Number(env('WAL_REVISE_EVERY', '0'));
const [pauseType, pauseAt] = env('WAL_PAUSE_AT', ':0').split(':') as [string, string];

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Writes a line to stdout now; the pipe is non-blocking, so a full pipe is retried until the parent reads it. */
function say(line: string): void {
  const bytes = Buffer.from(`${line}\n`);
  for (let offset = 0; offset < bytes.length; ) {
    try {
      offset += writeSync(1, bytes, offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      Atomics.wait(sleeper, 0, 0, 1);
    }
  }
}

const seen = new Map<string, number>();
function onEvent(event: WalEvent): void {
  const n = (seen.get(event.type) ?? 0) + 1;
  seen.set(event.type, n);
  if (event.type === pauseType && n === Number(pauseAt)) {
    say(`paused ${event.type} ${n}`);
    // Block the only thread here, so that the parent's SIGKILL lands exactly at this point.
    Atomics.wait(sleeper, 0, 0);
  }
}

const rows = loadJsonCandles('BTC_USDT-5m.json');
const store = LiveCandleStore.open(root, { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '5m' }, { onEvent });
store.compactEvery({ candles: compactEvery });
say('ready');

let seq = 0;
function issue(candle: StoredCandle): Promise<void> {
  const s = seq++;
  say(`issue ${s} ${candle.openTime} ${candle.source} ${candle.receivedAt}`);
  return store.append(candle).then(() => say(`ack ${s}`));
}

let next = start;
async function writer(): Promise<void> {
  while (next < start + count) {
    const i = next++;
    const row = rows[i]!;
    await issue({ ...row, source: 'websocket', receivedAt: row.openTime + 300_000 + (i % 1000) });
    if (reviseEvery > 0 && i % reviseEvery === 0 && i - 10 >= start) {
      const old = rows[i - 10]!;
      await issue({ ...old, source: 'rest', receivedAt: old.openTime + 3_600_000 + (i % 1000) });
    }
  }
}

await Promise.all(Array.from({ length: writers }, writer));
await store.close();
say('done');
