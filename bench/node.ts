/**
 * The trading node's bench (issue 14): `npm run node` with {@link NODE_STRATEGIES} strategies over
 * {@link NODE_SYMBOLS} symbols — two instances of `strategies/macd.ts` (12/26/9 and 6/14/5) per symbol, each in its
 * own worker process — against the project's simulator in its own process (`bench/sim-process.ts`, the bench's 1m
 * candles under the names `B000/USDT`…), over the in-process bus or RabbitMQ.
 *
 * The simulator's clock is frozen and moved by the bench one candle at a time, so that every figure has a known start:
 * - **start-up**: from spawning `npm run node` until every worker has journaled a decision on a live candle (the
 *   connector's feeds backfilled and subscribed, every worker forked, warmed up on its 1,000 candles of history and
 *   acting); meanwhile the bench closes a candle every {@link STARTUP_STEP_MS} ms, so the figure is late by up to that;
 * - **close-to-signal**, per candle and worker: from the moment the simulator queued the candle's closing frame on its
 *   sockets to the moment the worker's decision on it is durable in its `trading.jsonl` (its checkpoint, written and
 *   fdatasynced after `onData` and the broker). In between: ccxt.pro, the connector's closed-candle detector, its
 *   write-ahead log (fdatasync), the bus, the worker's sequencer, history and engine. One candle at a time: the next is
 *   closed only once every worker has decided on the previous one, so no sample waits behind another;
 * - **candles/s through the connector**: {@link BURST} candles per symbol closed at once; candles delivered and decided
 *   on by every worker, divided by the time from the frames to the last worker's decision;
 * - **RSS per worker** (and of the node process, which holds the connector), after the run, from `/proc`.
 *
 * The end of each interval is observed by this process watching the journals (inotify through `fs.watch`), so a figure
 * includes the few hundred microseconds this process takes to be scheduled and read the line.
 *
 * @module
 */
import { spawn, fork, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { join, resolve } from 'node:path';
import { sliceBatch } from '../framework/core/candle';
import { readDataset, writeCandles } from '../framework/store/partitions';
import { BENCH_1M, BENCH_ROOT, BENCH_START } from './data';
import { benchSymbol, HISTORY, MINUTE, type SimAdvanced, type SimReady, type SimRequest } from './sim-process';

/** Symbols the node subscribes to (one 1m subscription each). */
export const NODE_SYMBOLS = 10;
/** Strategies of the node: two per symbol. */
export const NODE_STRATEGIES = 2 * NODE_SYMBOLS;
/** Candles closed one at a time for the close-to-signal samples (after the first, which times the start-up). */
const LATENCY_CANDLES = 40;
/** While the node starts: a candle closed every this many ms, at most {@link STARTUP_CANDLES} of them. */
const STARTUP_STEP_MS = 250;
const STARTUP_CANDLES = 2_400;
/** Candles per symbol closed at once for the throughput figure. */
const BURST = 100;

/** One run of the node bench. */
export interface NodeRun {
  readonly bus: string;
  readonly strategies: number;
  readonly symbols: number;
  /** ms from spawning `npm run node` to every worker's decision on the first live candle. */
  readonly startupMs: number;
  /** ms, one per candle and worker (see the module description). */
  readonly closeToSignalMs: readonly number[];
  /** Candles (all symbols) per second of the burst, decided on by every worker. */
  readonly candlesPerSecond: number;
  /** Resident set size of each worker process after the run, MB. */
  readonly workerRssMb: readonly number[];
  /** Resident set size of the node process (connector, bus, supervisor), MB. */
  readonly nodeRssMb: number;
}

/** Wall clock as the simulator process stamps it: UTC epoch ms with sub-ms precision. */
const wallNow = (): number => performance.timeOrigin + performance.now();

/** Resident set size of a process, MB (0 when it is gone). */
function rssMb(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
    return line === undefined ? 0 : Number(line.split(/\s+/)[1]) / 1024;
  } catch {
    return 0;
  }
}

/** The direct children of a process (its workers). */
function childrenOf(pid: number): number[] {
  const file = `/proc/${pid}/task/${pid}/children`;
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number) : [];
}

/**
 * Watches every worker's `trading.jsonl` under `runs` and records, per strategy, when each candle's checkpoint (a
 * `state` line, `time` = the candle's open time) was seen.
 */
class JournalWatch {
  readonly seen = new Map<string, Map<number, number>>();
  readonly #watchers: FSWatcher[] = [];
  readonly #offsets = new Map<string, number>();
  readonly #partial = new Map<string, string>();

  constructor(
    private readonly runs: string,
    private readonly ids: readonly string[],
  ) {
    for (const id of ids) this.seen.set(id, new Map());
  }

  /** Starts watching the journals that exist now; returns how many are watched. */
  attach(): number {
    for (const id of this.ids) {
      if (this.#offsets.has(id)) continue;
      const dir = join(this.runs, id);
      const run = existsSync(dir) ? readdirSync(dir).sort()[0] : undefined;
      const file = run === undefined ? null : join(dir, run, 'trading.jsonl');
      if (file === null || !existsSync(file)) continue;
      this.#offsets.set(id, 0);
      this.#partial.set(id, '');
      this.#watchers.push(watch(file, () => this.#read(id, file)));
      this.#read(id, file);
    }
    return this.#offsets.size;
  }

  #read(id: string, file: string): void {
    const at = wallNow();
    const fd = openSync(file, 'r');
    try {
      const buffer = Buffer.alloc(1 << 16);
      let text = this.#partial.get(id)!;
      for (;;) {
        const n = readSync(fd, buffer, 0, buffer.length, this.#offsets.get(id)!);
        if (n === 0) break;
        this.#offsets.set(id, this.#offsets.get(id)! + n);
        text += buffer.toString('utf8', 0, n);
      }
      const lines = text.split('\n');
      this.#partial.set(id, lines.pop()!);
      const seen = this.seen.get(id)!;
      for (const line of lines) {
        if (!line.startsWith('{"kind":"state"')) continue;
        const time = (JSON.parse(line) as { time: number }).time;
        if (!seen.has(time)) seen.set(time, at);
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Whether every strategy has a checkpoint of the candle opening at `time`. */
  allSaw(time: number): boolean {
    return this.ids.every((id) => this.seen.get(id)!.has(time));
  }

  close(): void {
    for (const w of this.#watchers) w.close();
  }
}

/** The node configuration and strategy files of the bench, written under `dir`; returns the config path and the ids. */
function writeNode(dir: string, symbols: number): { config: string; ids: string[] } {
  const macd = resolve('strategies/macd');
  const lines = ['strategies:'];
  const ids: string[] = [];
  mkdirSync(join(dir, 'strategies'), { recursive: true });
  for (let i = 0; i < symbols; i++) {
    const symbol = benchSymbol(i);
    const file = join(dir, 'strategies', `macd-${symbol.split('/')[0]!.toLowerCase()}.ts`);
    writeFileSync(
      file,
      [
        `import MacdCrossover from ${JSON.stringify(macd)};`,
        '',
        `/** strategies/macd.ts on the bench's ${symbol} 1m. */`,
        'export default class MacdBench extends MacdCrossover {',
        '  override getRequiredSubscriptions() {',
        `    return [{ exchange: 'binance', symbol: ${JSON.stringify(symbol)}, timeframe: '1m' }];`,
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    const base = symbol.split('/')[0]!.toLowerCase();
    for (const [suffix, params] of [['a', '{ fast: 12, slow: 26, signal: 9 }'], ['b', '{ fast: 6, slow: 14, signal: 5 }']] as const) {
      ids.push(`${base}-${suffix}`);
      lines.push(`  - { id: ${base}-${suffix}, file: ${JSON.stringify(file)}, params: ${params}, allocation: { quote: 500 } }`);
    }
  }
  const config = join(dir, 'node.yaml');
  writeFileSync(config, `${lines.join('\n')}\n`);
  return { config, ids };
}

/** The bench's history of each symbol (its first {@link HISTORY} candles) as a shipped dataset under `root`. */
function writeHistory(root: string, symbols: number): void {
  const history = sliceBatch(readDataset(BENCH_ROOT, BENCH_1M, { to: BENCH_START + HISTORY * MINUTE }), 0, HISTORY);
  for (let i = 0; i < symbols; i++) writeCandles(root, { ...BENCH_1M, symbol: benchSymbol(i) }, history);
}

async function until(predicate: () => boolean, what: string, node: ChildProcess, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (node.exitCode !== null) throw new Error(`the node exited (${node.exitCode}) while waiting for ${what}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * One run of the node bench on the bus `bus` (`in-process`, or an `amqp://` URL); see the module description.
 *
 * @throws Error when the node or the simulator process exits early, or a wait exceeds 5 minutes.
 */
export async function nodeRun(bus: string): Promise<NodeRun> {
  const scratch = join(BENCH_ROOT, 'scratch', `node-${process.pid}-${Date.now()}`);
  mkdirSync(scratch, { recursive: true });
  const symbols = NODE_SYMBOLS;
  const { config, ids } = writeNode(scratch, symbols);
  writeHistory(join(scratch, 'datasets'), symbols);
  const sim = fork('bench/sim-process.ts', [String(symbols), String(STARTUP_CANDLES + LATENCY_CANDLES + BURST + 10)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let node: ChildProcess | null = null;
  const replies: (SimReady | SimAdvanced | { type: 'subscribed' })[] = [];
  sim.on('message', (m: SimReady | SimAdvanced | { type: 'subscribed' }) => replies.push(m));
  const request = (message: SimRequest): void => void sim.send(message);
  const reply = async <T>(type: string): Promise<T> => {
    for (;;) {
      const i = replies.findIndex((m) => m.type === type);
      if (i >= 0) return replies.splice(i, 1)[0] as T;
      if (sim.exitCode !== null) throw new Error('the simulator process exited');
      if (node !== null && node.exitCode !== null) throw new Error(`the node exited (${node.exitCode}) while waiting for the simulator's "${type}"`);
      await new Promise((r) => setTimeout(r, 1));
    }
  };
  const watcher = new JournalWatch(join(scratch, 'runs'), ids);
  try {
    const ready = await reply<SimReady>('ready');
    const spawnedAt = wallNow();
    node = spawn(
      process.execPath,
      ['--import', 'tsx', 'framework/cli/node.ts', config, '--sim-url', ready.restUrl, '--speed', '1', '--stale-after', 'off', '--quiet',
        '--datasets', join(scratch, 'datasets'), '--store', join(scratch, 'store'), '--runs', join(scratch, 'runs'),
        '--control', join(scratch, 'node.sock'), '--bus', bus],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const started = node;
    request({ type: 'subscribers' });
    await reply('subscribed');
    // Each advance closes the candle opening at `next`.
    let next = ready.start;
    const close = async (candles: number): Promise<number> => {
      request({ type: 'advance', candles });
      next += candles * MINUTE;
      return (await reply<SimAdvanced>('advanced')).wallMs;
    };
    // Until every worker has decided on a live candle, one candle every STARTUP_STEP_MS: the feeds are still
    // backfilling and the workers loading, and a candle closed before the connector is live is history, not traded.
    while (!(watcher.attach() === ids.length && ids.every((id) => watcher.seen.get(id)!.size > 0))) {
      if (next - ready.start >= STARTUP_CANDLES * MINUTE) throw new Error(`no decision from every worker after ${STARTUP_CANDLES} candles`);
      await close(1);
      await until(() => true, 'the node', started);
      await new Promise((r) => setTimeout(r, STARTUP_STEP_MS));
    }
    const startupMs = Math.max(...ids.map((id) => Math.min(...watcher.seen.get(id)!.values()))) - spawnedAt;
    await until(() => watcher.allSaw(next - MINUTE), 'every worker to catch up', started);

    const closeToSignalMs: number[] = [];
    for (let k = 1; k <= LATENCY_CANDLES; k++) {
      const openTime = next;
      const closedAt = await close(1);
      await until(() => watcher.allSaw(openTime), `every worker to decide on candle ${k}`, started);
      for (const id of ids) closeToSignalMs.push(watcher.seen.get(id)!.get(openTime)! - closedAt);
    }

    const burstAt = await close(BURST);
    const last = next - MINUTE;
    await until(() => watcher.allSaw(last), 'every worker to decide on the burst', started);
    const burstEnd = Math.max(...ids.map((id) => watcher.seen.get(id)!.get(last)!));
    const workers = childrenOf(started.pid!);
    const run: NodeRun = {
      bus: bus === 'in-process' ? bus : 'amqp',
      strategies: ids.length,
      symbols,
      startupMs,
      closeToSignalMs,
      candlesPerSecond: (symbols * BURST) / ((burstEnd - burstAt) / 1000),
      workerRssMb: workers.map(rssMb).filter((mb) => mb > 0),
      nodeRssMb: rssMb(started.pid!),
    };
    started.kill('SIGINT');
    await new Promise((r) => (started.exitCode !== null ? r(null) : started.once('exit', r)));
    return run;
  } finally {
    watcher.close();
    if (node !== null && node.exitCode === null) node.kill('SIGKILL');
    request({ type: 'stop' });
    await new Promise((r) => (sim.exitCode !== null ? r(null) : sim.once('exit', r)));
    rmSync(scratch, { recursive: true, force: true });
  }
}
