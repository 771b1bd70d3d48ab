/**
 * Trials over RabbitMQ (`npm run optimize -- --bus amqp://…` and `npm run optimize-worker -- --bus amqp://…`), with
 * the `rabbitmq-client` library: the search publishes each trial as a persistent message to the durable queue
 * `candlecraft.optimize.trials` (publisher confirms); workers on any machine consume it one at a time, run it over
 * their own copy of the candles (the same datasets give the same candles) and publish the result to the search's
 * durable result queue, then acknowledge the trial: a worker that dies mid-trial leaves it unacknowledged, and RabbitMQ
 * hands it to another worker. A result for a trial already recorded (a trial published again after a restart of the
 * search) is acknowledged and dropped; the search's own log decides what was done.
 *
 * @module
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Connection, type Consumer, type Publisher } from 'rabbitmq-client';
import type { BrokerConfig } from '../broker/broker-config';
import { FrameworkError } from '../core/errors';
import { describeSubscription } from '../core/subscription';
import { replayCandles } from '../feeds/replay';
import { jsonLine } from '../report/json-lines';
import { strategyFromModule } from '../strategy/loader';
import { runTrial, type StrategyPlugin, type TrialCandles, type TrialRequest, type TrialResult } from './trial';

/** The queue every search publishes its trials to and every worker consumes. */
export const TRIALS_QUEUE = 'candlecraft.optimize.trials';

/** Where a trial's candles come from: the strategy file, the candle store and the search's range (UTC epoch ms). */
export interface TrialSource {
  readonly file: string;
  readonly datasetsRoot: string;
  readonly from?: number;
  readonly to?: number;
  readonly broker: BrokerConfig;
}

/** A trial message. */
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

async function connect(url: string): Promise<Connection> {
  const connection = new Connection({ url, retryLow: 250, retryHigh: 5_000, connectionTimeout: 10_000 });
  connection.on('error', () => undefined); // retried by the library
  try {
    await connection.onConnect(30_000);
  } catch (error) {
    await connection.close();
    throw new FrameworkError(`--bus ${url}: cannot connect to RabbitMQ (${(error as Error).message})`, { cause: error });
  }
  return connection;
}

/** JSON numbers that are not finite travel as strings (`jsonLine`): numbers again. */
function reviveResult(result: TrialResult): TrialResult {
  const numbers = (record: object) =>
    Object.fromEntries(Object.entries(record).map(([k, v]) => [k, typeof v === 'string' ? Number(v) : v]));
  return { ...result, metrics: numbers(result.metrics) as never, moments: numbers(result.moments) as never };
}

/** The search's side: runs trials by publishing them and waiting for their results. */
export class AmqpTrialRunner {
  readonly #connection: Connection;
  readonly #publisher: Publisher;
  readonly #consumer: Consumer;
  readonly #results: string;
  readonly #pending = new Map<string, { resolve: (r: TrialResult) => void; reject: (e: Error) => void }>();

  private constructor(connection: Connection, results: string) {
    this.#connection = connection;
    this.#results = results;
    this.#publisher = connection.createPublisher({ confirm: true, maxAttempts: 3 });
    this.#consumer = connection.createConsumer(
      { queue: results, queueOptions: { durable: true }, qos: { prefetchCount: 64 }, requeue: true },
      (message) => {
        const body = JSON.parse(String(message.body)) as ResultMessage;
        const waiting = this.#pending.get(body.trial);
        if (waiting === undefined) return; // recorded already, or published by an earlier run of the search
        this.#pending.delete(body.trial);
        if (body.error !== undefined) waiting.reject(new FrameworkError(body.error));
        else waiting.resolve(reviveResult(body.result!));
      },
    );
    this.#consumer.on('error', () => undefined);
  }

  /**
   * Connects to RabbitMQ at `url` and starts consuming the results of search `searchId`.
   *
   * @throws {@link "core/errors"!FrameworkError | FrameworkError} when the broker cannot be reached within 30 s.
   */
  static async open(url: string, searchId: string): Promise<AmqpTrialRunner> {
    const runner = new AmqpTrialRunner(await connect(url), `candlecraft.optimize.${searchId}.results`);
    await new Promise<void>((resolve) => runner.#consumer.once('ready', () => resolve()));
    return runner;
  }

  /** Publishes trial `trial` and resolves with its result, from whichever worker runs it. */
  async run(trial: string, source: TrialSource, request: TrialRequest): Promise<TrialResult> {
    const result = new Promise<TrialResult>((resolve, reject) => this.#pending.set(trial, { resolve, reject }));
    const message: TrialMessage = { trial, source, request, replyTo: this.#results };
    await this.#publisher.send({ routingKey: TRIALS_QUEUE, durable: true, contentType: 'application/json' }, jsonLine(message));
    return result;
  }

  /** Stops consuming results and closes the connection. */
  async close(): Promise<void> {
    await this.#consumer.close();
    await this.#publisher.close();
    await this.#connection.close();
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
  const connection = await connect(url);
  const publisher = connection.createPublisher({ confirm: true, maxAttempts: 3 });
  const sources = new Map<string, Promise<{ plugin: StrategyPlugin; candles: TrialCandles }>>();
  let done = 0;
  const load = (source: TrialSource) => {
    const key = JSON.stringify([source.file, source.datasetsRoot, source.from, source.to]);
    let loaded = sources.get(key);
    if (loaded === undefined) {
      loaded = (async () => {
        const module = (await import(pathToFileURL(path.resolve(source.file)).href)) as Record<string, unknown>;
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
  const consumer = connection.createConsumer(
    { queue: TRIALS_QUEUE, queueOptions: { durable: true }, qos: { prefetchCount: 1 }, concurrency: 1, requeue: true },
    async (message) => {
      const body = JSON.parse(String(message.body)) as TrialMessage;
      let reply: ResultMessage;
      try {
        const { plugin, candles } = await load(body.source);
        reply = { trial: body.trial, result: await runTrial(plugin, candles, body.request, body.source.broker) };
      } catch (error) {
        reply = { trial: body.trial, error: `trial ${body.trial}: ${(error as Error).message}` };
      }
      await publisher.send({ routingKey: body.replyTo, durable: true, contentType: 'application/json' }, jsonLine(reply));
      done += 1;
      onTrial?.(body.trial);
    },
  );
  consumer.on('error', () => undefined);
  await new Promise<void>((resolve) => consumer.once('ready', () => resolve()));
  return {
    done: () => done,
    close: async () => {
      await consumer.close();
      await publisher.close();
      await connection.close();
    },
  };
}
