/**
 * Live pipeline throughput: closed-candle frames per second from the project's exchange simulator on loopback, through
 * ccxt.pro, the candle pipeline (closed-candle detection and validation) and the write-ahead log with fdatasync, for
 * 1, 10 and 100 subscribed symbols, the way `runLive` stores candles: one ccxt.pro exchange and one `LiveFeed` per
 * subscription, each candle appended to its store through a `DurableQueue` and acknowledged only once its append has
 * resolved (written and fdatasynced), in order. What `runLive` does after that (history, journal, strategy) is not
 * timed here; the latency figure covers it.
 *
 * The simulator (the exchange, on loopback) runs in a child process (`bench/sim-process.ts`), so that the figure is the
 * rate the client side sustains rather than client and exchange sharing one core. It moves its manual clock (speed 0)
 * forward by whole candle steps on the bench's requests ({@link REQUEST} candles each), sending per candle one forming
 * frame and the closing frame (`"x": true`; `updatesPerCandle: 1`, the fewest it plays); the bench keeps at most
 * {@link IN_FLIGHT} candles played but not yet acknowledged. A candle counts once its `onDurable` has run. The stores
 * do not compact during the run (`compactEvery` is not turned on).
 *
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createExchange } from '../framework/feeds/live/exchange';
import { LiveFeed } from '../framework/feeds/live/live-feed';
import { DurableQueue } from '../framework/store/durable-queue';
import { LiveCandleStore } from '../framework/store/live-store';
import { BENCH_ROOT } from './data';
import { benchSymbol, MINUTE, type SimReady, type SimRequest } from './sim-process';

/** One throughput run. */
export interface ThroughputRun {
  readonly symbols: number;
  /** Closed candles acknowledged (durable) during the timed span. */
  readonly candles: number;
  readonly seconds: number;
  readonly framesPerSecond: number;
  /** CPU time of the client process (this one) during the timed span, as a fraction of one core. */
  readonly clientCpu: number;
  /** Candles the feeds had to read over REST instead (0 when the stream delivered everything). */
  readonly fromRest: number;
}

/** Candles played but not yet acknowledged, at most. */
const IN_FLIGHT = 2_048;
/** Candles played per request to the simulator process (at least one candle step: one candle of every symbol). */
const REQUEST = 128;
const SCRATCH = join(BENCH_ROOT, 'scratch');

/**
 * Plays `candlesPerSymbol` closed candles of each of `symbols` markets (the bench's 1m BTC/USDT candles, under the
 * names `B000/USDT`, `B001/USDT`, …) and measures how fast they become durable.
 *
 * @throws when the simulator process fails or a store append fails.
 */
export async function throughputRun(symbols: number, candlesPerSymbol: number): Promise<ThroughputRun> {
  const child = fork('bench/sim-process.ts', [String(symbols), String(candlesPerSymbol)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`simulator process exited (${code})`))));
  exited.catch(() => undefined);
  const request = (message: SimRequest): void => void child.send(message);
  const root = join(SCRATCH, `throughput-${symbols}-${process.pid}-${Date.now()}`);
  mkdirSync(root, { recursive: true });
  const names = Array.from({ length: symbols }, (_, i) => benchSymbol(i));
  const stores: LiveCandleStore[] = [];
  const queues: DurableQueue[] = [];
  const feeds: LiveFeed[] = [];
  const exchanges: ReturnType<typeof createExchange>[] = [];
  const target = symbols * candlesPerSymbol;
  const stepsPerRequest = Math.max(1, Math.floor(REQUEST / symbols));
  let produced = 0;
  let acknowledged = 0;
  let timing = false;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const pump = (): void => {
    while (produced < target && produced - acknowledged + stepsPerRequest * symbols <= IN_FLIGHT) {
      const steps = Math.min(stepsPerRequest, (target - produced) / symbols);
      request({ type: 'advance', candles: steps });
      produced += steps * symbols;
    }
  };
  const acknowledge = (): void => {
    acknowledged += 1;
    if (acknowledged >= target) done();
    else pump();
  };
  try {
    const sim = await Promise.race([exited, new Promise<SimReady>((resolve) => child.once('message', resolve))]);
    for (const symbol of names) {
      const subscription = { exchange: 'binance', symbol, timeframe: '1m' } as const;
      const store = LiveCandleStore.open(root, { ...subscription, exchange: 'sim' });
      const queue = new DurableQueue(store);
      const exchange = createExchange('binance', { urls: sim, enableRateLimit: false });
      stores.push(store);
      queues.push(queue);
      exchanges.push(exchange);
      feeds.push(
        new LiveFeed({
          exchange,
          subscription,
          lastStoredOpenTime: sim.start - MINUTE,
          // The manual clock does not run: keep the feed's own timers (REST audits, clock re-syncs, silence) out of it.
          clockRate: 1,
          monitorIntervalMs: 3_600_000,
          clockResyncIntervalMs: 3_600_000,
          silenceTimeoutMs: 3_600_000,
          onCandle: (candle) => {
            if (timing) queue.push(candle, acknowledge);
          },
        }),
      );
    }
    await Promise.all(feeds.map((f) => f.start()));
    request({ type: 'subscribers' });
    await Promise.race([exited, new Promise((resolve) => child.once('message', resolve))]);
    timing = true;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    pump();
    await Promise.race([finished, exited, ...queues.map((q) => q.failed), ...feeds.map((f) => f.finished)]);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const fromRest = feeds.reduce((n, f) => n + f.status().fromRest, 0);
    return {
      symbols,
      candles: acknowledged,
      seconds,
      framesPerSecond: acknowledged / seconds,
      clientCpu: (cpu.user + cpu.system) / 1e6 / seconds,
      fromRest,
    };
  } finally {
    await Promise.all(feeds.map((f) => f.stop()));
    await Promise.all(exchanges.map((e) => e.close()));
    await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
    await stopChild(child);
    rmSync(root, { recursive: true, force: true });
  }
}

/** Asks the simulator process to stop and waits for it to exit (killing it if it has not within 5 s). */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.send({ type: 'stop' } satisfies SimRequest);
  const timer = setTimeout(() => child.kill(), 5_000);
  await exit;
  clearTimeout(timer);
}
