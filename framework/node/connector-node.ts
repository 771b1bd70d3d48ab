/**
 * The trading node split in two processes sharing one RabbitMQ (`npm run node -- <config> --role connector|workers
 * --bus amqp://…`): the connector process runs the market data ({@link MarketData}: one feed per unique
 * subscription, the write-ahead log, publication once durable) and, for `mode: real` strategies, the trade desk on the
 * account (the {@link ConnectorSide}: it holds the keys); the workers process runs the supervisor, the workers, the
 * portfolio and admin (see `node/node.ts`). Both read the same configuration; the workers read the connector's live
 * store to fill holes, so both run on one machine or share the store's folder. The helpers here serve both roles: the
 * one-process node runs the same market data and trade desk.
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
import type { ApiCredentials } from '../feeds/live/exchange';
import { loadStrategy } from '../strategy/loader';
import { DEFAULT_ACCOUNT_CASH, strategyCash, type NodeConfig, type NodeStrategy } from './config';
import { MarketData, type MarketDataMessage, type SimulatorOptions } from '../connector/market-data';
import { checkNodeRole } from './role';
import { TradeDesk } from './trade-commands';
import { COMMAND_QUEUE, COMMAND_TOPICS } from './trade-messages';
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

/**
 * Checks that the account's keys are there for the `mode: real` strategies `real` (none: nothing to check).
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} naming the strategies and the environment variables.
 */
export function checkCredentials(real: readonly NodeStrategy[], credentials: ApiCredentials | undefined): asserts credentials is ApiCredentials {
  if (real.length > 0 && credentials === undefined) {
    throw new FrameworkError(`${real.map((s) => s.id).join(', ')}: mode: real needs the account's API keys (CANDLECRAFT_API_KEY and CANDLECRAFT_API_SECRET)`);
  }
}

/** What {@link marketPublisher} returns. */
interface MarketPublisher {
  /** Publishes a market-data message on its topic (the bus's rejection passes through). */
  readonly publish: (topic: string, message: MarketDataMessage) => Promise<void>;
  /** The last close published for `symbol` (quote per base), or `undefined` before its first candle. */
  readonly lastClose: (symbol: string) => number | undefined;
}

/**
 * Publication of market data on `bus`, remembering each symbol's last published close (quote per base): the trade
 * desk's reference price for the allocation check. `unique` maps each market-data topic to its subscription.
 */
function marketPublisher(bus: MessageBus, unique: ReadonlyMap<string, Subscription>): MarketPublisher {
  const closes = new Map<string, number>();
  return {
    publish: (topic, message) => {
      if (message.kind === 'candle') closes.set(unique.get(topic)!.symbol, message.candle.close);
      return bus.publish(topic, message);
    },
    lastClose: (symbol) => closes.get(symbol),
  };
}

/** Options of {@link startTradeDesk}. */
interface NodeTradeDeskOptions {
  readonly bus: MessageBus;
  readonly config: NodeConfig;
  readonly subscriptionsOf: ReadonlyMap<string, readonly Subscription[]>;
  /** The connector's market data: its trading instance is the account's. */
  readonly market: MarketData;
  /** See {@link marketPublisher}. */
  readonly lastClose: (symbol: string) => number | undefined;
  /** Each real run's executor journals in `<runsRoot>/<strategy id>/<run id>/`. */
  readonly runsRoot: string;
  /** The account's cash (quote currency) that `fraction` allocations are taken of. */
  readonly accountCash: number;
  /** Real ms between reconciliation passes (default 30 000). */
  readonly reconcileIntervalMs?: number;
  readonly logger?: Logger;
}

/**
 * Starts the trade desk of the node's `mode: real` strategies beside the connector's market data (the one-process
 * node's or the `--role connector` process's), after declaring the command queue; `null` when no strategy is real.
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} when the real strategies trade on more than one
 *   exchange account; ccxt's error when the account cannot be reached.
 */
async function startTradeDesk(options: NodeTradeDeskOptions): Promise<TradeDesk | null> {
  const { config, subscriptionsOf, bus } = options;
  const real = config.strategies.filter((s) => s.mode === 'real');
  if (real.length === 0) return null;
  await bus.declare({ queue: COMMAND_QUEUE, topics: COMMAND_TOPICS });
  const exchanges = new Set(real.flatMap((s) => subscriptionsOf.get(s.id)?.slice(0, 1).map((t) => t.exchange) ?? []));
  const venue = exchanges.size === 1 ? options.market.trading([...exchanges][0]!) : null;
  if (venue === null) throw new FrameworkError(`mode: real: the real-mode strategies must trade on one exchange account, found ${[...exchanges].join(', ') || 'none loaded'}`);
  return TradeDesk.start({
    bus,
    venue,
    strategies: real.flatMap((s) => subscriptionsOf.get(s.id)?.slice(0, 1).map((t) => ({ id: s.id, symbol: t.symbol, allocation: strategyCash(s, options.accountCash), enabled: s.enabled })) ?? []),
    runsRoot: options.runsRoot,
    priceOf: options.lastClose,
    ...(options.reconcileIntervalMs !== undefined && { reconcileIntervalMs: options.reconcileIntervalMs }),
    ...(options.logger !== undefined && { logger: options.logger }),
  });
}

/** Options of {@link ConnectorSide.start}. */
export interface ConnectorSideOptions {
  readonly bus: MessageBus;
  readonly config: NodeConfig;
  /** Each strategy's subscriptions (see {@link subscriptionsOfStrategies}). */
  readonly subscriptionsOf: ReadonlyMap<string, readonly Subscription[]>;
  /** The subscriptions served, by market-data topic (see {@link uniqueSubscriptions}). */
  readonly unique: ReadonlyMap<string, Subscription>;
  readonly datasetsRoot: string;
  readonly storeRoot: string;
  readonly simulator?: SimulatorOptions;
  /** The account's keys (`mode: real` strategies; checked by {@link checkCredentials} before). */
  readonly credentials?: ApiCredentials;
  /** Each real run's executor journals in `<runsRoot>/<strategy id>/<run id>/`. */
  readonly runsRoot: string;
  /** The account's cash (quote currency) that `fraction` allocations are taken of. */
  readonly accountCash: number;
  /** Real ms between reconciliation passes (default 30 000). */
  readonly reconcileIntervalMs?: number;
  /** See `MarketDataOptions.onDataEnded`. */
  readonly onDataEnded: (lastOpenTimes: ReadonlyMap<string, number>, liveCandles: boolean) => void;
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
}

/**
 * The connector side of a node, as both the one-process node and the `--role connector` process run it: the market
 * data (one feed per unique subscription, the write-ahead log, publication once durable) and, for `mode: real`
 * strategies, the trade desk on the account beside it (allocations priced at the last close it published).
 */
export class ConnectorSide {
  private constructor(
    readonly market: MarketData,
    readonly desk: TradeDesk | null,
  ) {}

  /**
   * Starts the market data, then the trade desk.
   *
   * @throws the errors of `MarketData.start` and of the trade desk's start (the market data is stopped first).
   */
  static async start(options: ConnectorSideOptions): Promise<ConnectorSide> {
    const { bus, logger } = options;
    const publisher = marketPublisher(bus, options.unique);
    const market = await MarketData.start({
      subscriptions: [...options.unique.values()],
      datasetsRoot: options.datasetsRoot,
      storeRoot: options.storeRoot,
      ...(options.simulator !== undefined && { simulator: options.simulator }),
      publish: publisher.publish,
      ...(options.credentials !== undefined && { credentials: options.credentials }),
      onDataEnded: options.onDataEnded,
      ...(options.signal !== undefined && { signal: options.signal }),
      ...(logger !== undefined && { logger }),
    });
    try {
      const desk = await startTradeDesk({
        bus,
        config: options.config,
        subscriptionsOf: options.subscriptionsOf,
        market,
        lastClose: publisher.lastClose,
        runsRoot: options.runsRoot,
        accountCash: options.accountCash,
        ...(options.reconcileIntervalMs !== undefined && { reconcileIntervalMs: options.reconcileIntervalMs }),
        ...(logger !== undefined && { logger }),
      });
      return new ConnectorSide(market, desk);
    } catch (error) {
      await market.stop();
      throw error;
    }
  }

  /** Stops the trade desk (after the command under way), then the market data. */
  async stop(): Promise<void> {
    await this.desk?.stop();
    await this.market.stop();
  }
}

/** What the connector process runs. */
export interface ConnectorNodeOptions {
  readonly config: NodeConfig;
  /** The RabbitMQ bus (amqp:// URL). */
  readonly bus: string;
  readonly datasetsRoot?: string;
  readonly storeRoot?: string;
  readonly simulator?: SimulatorOptions;
  /**
   * `mode: real` strategies: the account's keys (required then), the runs folder their executors journal in (as the
   * workers' process's `--runs`; default `runs`), the account's cash for `fraction` allocations (default 10 000) and
   * the reconciliation interval (real ms, default 30 000). The trade desk runs here, beside the market data.
   */
  readonly credentials?: ApiCredentials;
  readonly runsRoot?: string;
  readonly accountCash?: number;
  readonly reconcileIntervalMs?: number;
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
  checkCredentials(config.strategies.filter((s) => s.mode === 'real'), options.credentials);
  const bus = await AmqpBus.connect(options.bus, { onError: (e) => logger?.warn({ err: e.message }, 'bus connection') });
  let connector: ConnectorSide | null = null;
  try {
    const subscriptionsOf = await subscriptionsOfStrategies(config, logger);
    await declareWorkerQueues(bus, config, subscriptionsOf);
    const unique = uniqueSubscriptions(config, subscriptionsOf);
    if (unique.size === 0) throw new FrameworkError('the node configuration has no strategy that loads: no market data to serve');
    let dataEnded: () => void = () => undefined;
    const ended = new Promise<void>((resolve) => (dataEnded = resolve));
    connector = await ConnectorSide.start({
      bus,
      config,
      subscriptionsOf,
      unique,
      datasetsRoot: options.datasetsRoot ?? 'datasets',
      storeRoot: options.storeRoot ?? 'live-data',
      ...(options.simulator !== undefined && { simulator: options.simulator }),
      ...(options.credentials !== undefined && { credentials: options.credentials }),
      runsRoot: options.runsRoot ?? 'runs',
      accountCash: options.accountCash ?? DEFAULT_ACCOUNT_CASH,
      ...(options.reconcileIntervalMs !== undefined && { reconcileIntervalMs: options.reconcileIntervalMs }),
      onDataEnded: () => dataEnded(),
      ...(options.signal !== undefined && { signal: options.signal }),
      ...(logger !== undefined && { logger }),
    });
    logger?.info({ subscriptions: [...unique.keys()] }, 'connector running');
    const aborted = new Promise<void>((resolve) => {
      if (options.signal?.aborted === true) resolve();
      options.signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    await Promise.race([aborted, ended, connector.market.failed()]);
  } finally {
    await connector?.stop();
    await bus.close();
  }
}
