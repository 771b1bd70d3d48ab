/**
 * The program of one trading-node worker process, forked by the node's supervisor: loads its strategy (a plugin that
 * fails to load is reported and not retried), joins the bus (the node's in-process bus over IPC, or RabbitMQ) and
 * runs {@link runStrategyWorker} until the supervisor asks it to stop or its candle limit is reached (exit code 0:
 * finished, not restarted). Its one argument is the JSON of a {@link WorkerArguments}.
 *
 * @module
 */
import type { MessageBus } from '../bus/bus';
import { IpcBusClient } from '../bus/ipc';
import { messageOf } from '../core/errors';
import { createLogger, type LogLevel } from '../core/logger';
import { loadStrategy, type LoadedStrategy } from '../strategy/loader';
import { failToLoad, onStopRequest, processBusChannel, startWorker } from '../supervisor/worker-runtime';
import { runStrategyWorker, type StrategyWorkerOptions } from './worker';

/** What the node passes a worker (JSON): its strategy, the bus (`in-process` or an amqp:// URL) and its run settings. */
export interface WorkerArguments extends Omit<StrategyWorkerOptions, 'strategy' | 'bus' | 'signal' | 'logger' | 'staleAfter'> {
  /** See `StrategyWorkerOptions.staleAfter`; `off` (JSON has no Infinity): no candle is stale. */
  readonly staleAfter?: number | 'off';
  readonly file: string;
  readonly params: Readonly<Record<string, string>>;
  readonly bus: string;
  readonly logLevel: LogLevel;
}

const args = JSON.parse(process.argv[2] ?? '{}') as WorkerArguments;
const abort = new AbortController();
onStopRequest(() => abort.abort());
// The node is gone (killed: a clean stop ends its workers first). Die as if killed with it rather than run
// unsupervised or end the run: the run stays unfinished, so the node started again continues it, positions, stops and
// exchange orders restored (as after a worker's own SIGKILL), instead of starting flat beside a position it left.
// SIGKILL, not process.exit: the journals are written synchronously (nothing to flush), and no exit handler can hold
// the process up writing to the dead node's stderr pipe (an asynchronous log's exit flush did: see core/logger.ts).
process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
process.on('SIGTERM', () => abort.abort());
process.on('SIGINT', () => undefined); // a terminal's Ctrl-C reaches the whole group: the node stops its workers
startWorker();
const logger = createLogger(args.logLevel, undefined, true).child({ strategy: args.id }); // sync: see createLogger
let loaded: LoadedStrategy;
try {
  loaded = await loadStrategy(args.file, args.params);
} catch (error) {
  process.stderr.write(`${args.id}: ${messageOf(error)}\n`);
  failToLoad(messageOf(error));
}
if (args.realOrders === true && loaded.strategy.canShort) {
  // Not retried, as a plugin that fails to load: a spot account cannot short.
  const message = `mode: real: strategy "${loaded.strategy.name}" declares canShort = true, but a spot account cannot short; run it with mode: paper`;
  process.stderr.write(`${args.id}: ${message}\n`);
  failToLoad(message);
}
let bus: MessageBus;
try {
  // RabbitMQ's client is loaded only for an amqp:// bus: a worker of an in-process bus talks to its node over IPC.
  bus = args.bus === 'in-process' ? new IpcBusClient(processBusChannel()) : await (await import('../bus/amqp')).AmqpBus.connect(args.bus);
  const { staleAfter, ...rest } = args;
  const result = await runStrategyWorker({
    ...rest,
    ...(staleAfter !== undefined && { staleAfter: staleAfter === 'off' ? Number.POSITIVE_INFINITY : staleAfter }),
    strategy: loaded,
    bus,
    signal: abort.signal,
    logger,
  });
  logger.info({ run: result.dir, candles: result.liveCandles.length }, `${args.id}: stopped`);
  await bus.close();
  process.exit(0);
} catch (error) {
  process.stderr.write(`${args.id}: ${messageOf(error)}\n`);
  process.exit(1);
}
