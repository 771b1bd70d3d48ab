/**
 * The trading node split in two processes sharing one RabbitMQ (`npm run node -- <config> --role connector|workers
 * --bus amqp://…`): the connector process runs only the market data ({@link MarketData}: one feed per unique
 * subscription, the write-ahead log, publication once durable), the workers process runs the supervisor, the workers,
 * the portfolio and admin (see `node/node.ts`). Both read the same configuration; the workers read the connector's
 * live store to fill holes, so both run on one machine or share the store's folder.
 *
 * The connector declares each enabled strategy's queue (`worker.<id>`, bound to its market-data topics) before its
 * first publication, so that no candle is published to nobody whichever process starts first: a worker that comes up
 * later finds every candle since the connector started waiting in its queue, exactly as in one process.
 *
 * @module
 */
import { AmqpBus } from '../bus/amqp';
import type { MessageBus } from '../bus/bus';
import { marketDataTopic } from '../bus/topics';
import { FrameworkError, messageOf } from '../core/errors';
import type { Logger } from '../core/logger';
import type { Subscription } from '../core/subscription';
import { loadStrategy } from '../strategy/loader';
import type { NodeConfig, NodeStrategy } from './config';
import { MarketData, type SimulatorOptions } from '../connector/market-data';
import { checkNodeRole } from './role';
import { workerQueue } from './worker';

/** Each strategy's subscriptions (from its plugin); a strategy that cannot be loaded is logged and left out. */
export async function subscriptionsOfStrategies(config: NodeConfig, logger?: Logger): Promise<Map<string, readonly Subscription[]>> {
  const subscriptionsOf = new Map<string, readonly Subscription[]>();
  for (const s of config.strategies) {
    try {
      subscriptionsOf.set(s.id, (await loadStrategy(s.file, paramsOf(s))).subscriptions);
    } catch (error) {
      logger?.error({ err: messageOf(error) }, `${s.id}: the strategy cannot be loaded; its worker will fail`);
    }
  }
  return subscriptionsOf;
}

/** Every configured strategy's subscriptions, each once (the disabled ones' too: `start <id>` finds its data served). */
export function uniqueSubscriptions(config: NodeConfig, subscriptionsOf: ReadonlyMap<string, readonly Subscription[]>): Map<string, Subscription> {
  return new Map(config.strategies.flatMap((s) => subscriptionsOf.get(s.id) ?? []).map((s) => [marketDataTopic(s), s]));
}

/**
 * Declares the queue of every enabled strategy's worker, bound to its market-data topics, so that what the connector
 * publishes from now on waits for the worker (see the module description).
 *
 * @throws the bus's errors when a queue cannot be declared.
 */
export async function declareWorkerQueues(bus: MessageBus, config: NodeConfig, subscriptionsOf: ReadonlyMap<string, readonly Subscription[]>): Promise<void> {
  for (const s of config.strategies) {
    const subscriptions = subscriptionsOf.get(s.id);
    if (s.enabled && subscriptions !== undefined) await bus.declare({ queue: workerQueue(s.id), topics: subscriptions.map(marketDataTopic) });
  }
}

/** A strategy's parameters as the loader takes them (text, as `--param`). */
export function paramsOf(s: NodeStrategy): Record<string, string> {
  return Object.fromEntries(Object.entries(s.params).map(([k, v]) => [k, String(v)]));
}

/** What the connector process runs. */
export interface ConnectorNodeOptions {
  readonly config: NodeConfig;
  /** The RabbitMQ bus (amqp:// URL). */
  readonly bus: string;
  readonly datasetsRoot?: string;
  readonly storeRoot?: string;
  readonly simulator?: SimulatorOptions;
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
}

/**
 * Runs the connector process of a split node until `signal` aborts, a feed or the store fails (rethrown), or the
 * in-process simulator's data has ended and is durable and published.
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} when the bus is not RabbitMQ or cannot be reached, or
 *   the market data cannot start; a feed's or the store's failure.
 */
export async function runConnectorNode(options: ConnectorNodeOptions): Promise<void> {
  const { logger, config } = options;
  checkNodeRole('connector', options.bus);
  const bus = await AmqpBus.connect(options.bus, { onError: (e) => logger?.warn({ err: e.message }, 'bus connection') });
  let market: MarketData | null = null;
  try {
    const subscriptionsOf = await subscriptionsOfStrategies(config, logger);
    await declareWorkerQueues(bus, config, subscriptionsOf);
    const unique = uniqueSubscriptions(config, subscriptionsOf);
    if (unique.size === 0) throw new FrameworkError('the node configuration has no strategy that loads: no market data to serve');
    let dataEnded: () => void = () => undefined;
    const ended = new Promise<void>((resolve) => (dataEnded = resolve));
    market = await MarketData.start({
      subscriptions: [...unique.values()],
      datasetsRoot: options.datasetsRoot ?? 'datasets',
      storeRoot: options.storeRoot ?? 'live-data',
      ...(options.simulator !== undefined && { simulator: options.simulator }),
      publish: (topic, message) => bus.publish(topic, message),
      onDataEnded: () => dataEnded(),
      ...(options.signal !== undefined && { signal: options.signal }),
      ...(logger !== undefined && { logger }),
    });
    logger?.info({ subscriptions: [...unique.keys()] }, 'connector running');
    const aborted = new Promise<void>((resolve) => {
      if (options.signal?.aborted === true) resolve();
      options.signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    await Promise.race([aborted, ended, market.failed()]);
  } finally {
    await market?.stop();
    await bus.close();
  }
}
