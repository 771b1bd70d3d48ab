/**
 * Trials over RabbitMQ (`npm run optimize -- --bus amqp://…` and `npm run optimize-worker -- --bus amqp://…`), on the
 * project's message bus ({@link "bus/amqp"!AmqpBus | AmqpBus}: its topic exchange, durable queues, persistent
 * messages, publisher confirms and acknowledgement after the handler): the search publishes each trial on the topic
 * `optimize.trials`, which the durable queue `candlecraft.optimize.trials` holds; workers on any machine consume it
 * one at a time, run each trial over their own copy of the candles (the same datasets give the same candles), publish
 * the result on the search's own topic `optimize.<search id>.results` (its durable queue
 * `candlecraft.optimize.<search id>.results`), then acknowledge the trial: a worker that dies mid-trial leaves it
 * unacknowledged, and RabbitMQ hands it to another worker. A result for a trial already recorded (a trial published
 * again after a restart of the search) is dropped; the search's own log decides what was done.
 *
 * @module
 */
import path from 'node:path';
import type { BrokerConfig } from '../broker/broker-config';
import { AmqpBus } from '../bus/amqp';
import type { MessageBus } from '../bus/bus';
import { FrameworkError } from '../core/errors';
import { importTypeScript } from '../core/runtime';
import { describeSubscription } from '../core/subscription';
import { replayCandles } from '../feeds/replay';
import { jsonLine } from '../report/json-lines';
import { strategyFromModule } from '../strategy/loader';
import { raiseInliningBudget } from './inlining';
import { runTrial, type StrategyPlugin, type TrialCandles, type TrialRequest, type TrialResult } from './trial';

/** The topic every search publishes its trials on. */
export const TRIALS_TOPIC = 'optimize.trials';

/** The queue of {@link TRIALS_TOPIC} that every worker consumes. */
export const TRIALS_QUEUE = 'candlecraft.optimize.trials';

/** Where a trial's candles come from: the strategy file, the candle store and the search's range (UTC epoch ms). */
export interface TrialSource {
  readonly file: string;
  readonly datasetsRoot: string;
  readonly from?: number;
  readonly to?: number;
  readonly broker: BrokerConfig;
}

/** A trial message; `replyTo` is the topic of the search's results. */
interface TrialMessage {
  readonly trial: string;
  readonly source: TrialSource;
  readonly request: TrialRequest;
  readonly replyTo: string;
}

/** A result message: the trial's result, or why it failed. */
interface ResultMessage {
  readonly trial: string;
  readonly result?: TrialResult;
  readonly error?: string;
}

/**
 * The bus at `url`.
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} naming `--bus` when the broker cannot be reached within 30 s.
 */
async function connect(url: string): Promise<MessageBus> {
  try {
    return await AmqpBus.connect(url);
  } catch (error) {
    throw new FrameworkError(`--bus ${url}: cannot connect to RabbitMQ (${(error as Error).message})`, { cause: error });
  }
}

/** A message as a JSON value with the numbers JSON cannot hold (NaN, ±Infinity: a trial's metrics may) as strings (`jsonLine`). */
function wire(message: TrialMessage | ResultMessage): unknown {
  return JSON.parse(jsonLine(message));
}

/** The strings {@link wire} made of non-finite numbers: numbers again. */
function reviveResult(result: TrialResult): TrialResult {
  const numbers = (record: object) =>
    Object.fromEntries(Object.entries(record).map(([k, v]) => [k, typeof v === 'string' ? Number(v) : v]));
  return { ...result, metrics: numbers(result.metrics) as never, moments: numbers(result.moments) as never };
}

/** The search's side: runs trials by publishing them and waiting for their results. */
export class AmqpTrialRunner {
  readonly #bus: MessageBus;
  readonly #results: string;
  readonly #pending = new Map<string, { resolve: (r: TrialResult) => void; reject: (e: Error) => void }>();

  private constructor(bus: MessageBus, results: string) {
    this.#bus = bus;
    this.#results = results;
  }

  /**
   * Connects to RabbitMQ at `url`, declares the trials queue (trials published before any worker ever ran wait in it)
   * and starts consuming the results of search `searchId`.
   *
   * @throws {@link "core/errors"!FrameworkError | FrameworkError} when the broker cannot be reached within 30 s.
   */
  static async open(url: string, searchId: string): Promise<AmqpTrialRunner> {
    const bus = await connect(url);
    const runner = new AmqpTrialRunner(bus, `optimize.${searchId}.results`);
    await bus.declare({ queue: TRIALS_QUEUE, topics: [TRIALS_TOPIC] });
    await bus.consume({ queue: `candlecraft.${runner.#results}`, topics: [runner.#results], prefetch: 64 }, (message) => {
      const body = message.body as ResultMessage;
      const waiting = runner.#pending.get(body.trial);
      if (waiting === undefined) return; // recorded already, or published by an earlier run of the search
      runner.#pending.delete(body.trial);
      if (body.error !== undefined) waiting.reject(new FrameworkError(body.error));
      else waiting.resolve(reviveResult(body.result!));
    });
    return runner;
  }

  /** Publishes trial `trial` and resolves with its result, from whichever worker runs it. */
  async run(trial: string, source: TrialSource, request: TrialRequest): Promise<TrialResult> {
    const result = new Promise<TrialResult>((resolve, reject) => this.#pending.set(trial, { resolve, reject }));
    await this.#bus.publish(TRIALS_TOPIC, wire({ trial, source, request, replyTo: this.#results }));
    return result;
  }

  /** Stops consuming results and closes the connection. */
  async close(): Promise<void> {
    await this.#bus.close();
  }
}

/** A running worker: {@link serveTrials}'s handle. */
export interface TrialWorker {
  /** Trials run so far. */
  readonly done: () => number;
  /** Stops consuming (a trial in progress finishes first) and closes the connection. */
  close(): Promise<void>;
}

/**
 * The worker's side: consumes `candlecraft.optimize.trials` one message at a time, runs each trial with
 * {@link runTrial} over the candles of its source (read once per source through the backtest's replay), publishes the
 * result to the search's result queue and then acknowledges the trial.
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} when the broker cannot be reached within 30 s.
 */
export async function serveTrials(url: string, onTrial?: (trial: string) => void): Promise<TrialWorker> {
  raiseInliningBudget(); // before the first trial's code is compiled
  const bus = await connect(url);
  const sources = new Map<string, Promise<{ plugin: StrategyPlugin; candles: TrialCandles }>>();
  let done = 0;
  const load = (source: TrialSource) => {
    const key = JSON.stringify([source.file, source.datasetsRoot, source.from, source.to]);
    let loaded = sources.get(key);
    if (loaded === undefined) {
      loaded = (async () => {
        const module = await importTypeScript(path.resolve(source.file));
        const { subscriptions } = strategyFromModule(module, source.file);
        const range = { ...(source.from !== undefined && { from: source.from }), ...(source.to !== undefined && { to: source.to }) };
        const [traded, ...informative] = subscriptions.map((s) => replayCandles(source.datasetsRoot, s, range));
        return {
          plugin: { module, file: source.file },
          candles: { traded: traded!, informative: new Map(subscriptions.slice(1).map((s, i) => [describeSubscription(s), informative[i]!])) },
        };
      })();
      sources.set(key, loaded);
    }
    return loaded;
  };
  await bus.consume({ queue: TRIALS_QUEUE, topics: [TRIALS_TOPIC], prefetch: 1 }, async (message) => {
    const body = message.body as TrialMessage;
    let reply: ResultMessage;
    try {
      const { plugin, candles } = await load(body.source);
      reply = { trial: body.trial, result: await runTrial(plugin, candles, body.request, body.source.broker) };
    } catch (error) {
      reply = { trial: body.trial, error: `trial ${body.trial}: ${(error as Error).message}` };
    }
    await bus.publish(body.replyTo, wire(reply));
    done += 1;
    onTrial?.(body.trial);
  });
  return {
    done: () => done,
    close: () => bus.close(),
  };
}
