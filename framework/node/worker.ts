/**
 * One strategy of the trading node, in its own process: the worker side of `npm run live`. It consumes its
 * strategy's market-data topics from the bus (one durable queue per worker), puts each subscription's candles back in
 * order with a {@link "bus/sequencer"!CandleSequencer | CandleSequencer} (duplicates and redeliveries dropped, a hole
 * filled from the connector's store), and acts on them with the same engine, paper broker, journals and report as
 * {@link "engine/live"!runLive | runLive}, in a run folder of its own: `npm run diff -- <strategy> --run <dir>` checks
 * it like any live run.
 *
 * - History: on the first traded candle it receives, each subscription's history is loaded from the shipped dataset
 *   plus the connector's store (every candle is durable there before it is published): the traded one up to that
 *   candle, the informative ones up to the exchange time it arrived at. Candles received before are in the store, so
 *   in that history.
 * - Candles are acted on (traded) from the first one the connector flagged `live` (not the feeds' warm-up backfill) on:
 *   a restarted connector's warm-up backfill closed while the worker ran, so it is acted on too (late: the stale rule
 *   judges it). In open-time order, once every informative subscription has delivered the candles that closed with
 *   it (the barrier of `runLive`, across routing keys); the stale rule uses the `arrivedAt` the connector stamped.
 * - A delivery is acknowledged once the candle is in the worker's history (the store holds it durably; a restarted
 *   worker reloads it from there). A worker killed before its stop is continued by its next start: same run folder,
 *   broker restored from `trading.jsonl`; candles that closed meanwhile are history, not traded (as `npm run live`).
 * - After each traded candle the broker is checkpointed in `trading.jsonl`, then a `system.snapshot` is published for
 *   the node's portfolio.
 * - `mode: real` ({@link StrategyWorkerOptions.realOrders}): the run is opened on the connector first (its amount
 *   step sizes the paper broker; a continued run's catch-up goes out), and each candle's paper order events are sent
 *   as `commands.execute_trade` once its checkpoint is durable, each answered before the next candle is acted on
 *   (see `node/trade-client.ts`).
 *
 * @module
 */
import { rmSync } from 'node:fs';
import { brokerConfig, strategyKeyOf, type BrokerConfig } from '../broker/broker-config';
import { PaperBroker } from '../broker/paper-broker';
import type { MessageBus, BusMessage } from '../bus/bus';
import { CandleSequencer } from '../bus/sequencer';
import { marketDataTopic, systemTopic } from '../bus/topics';
import { allocateBatch, candlesFromBatch, type StoredCandle } from '../core/candle';
import { messageOf } from '../core/errors';
import type { Logger } from '../core/logger';
import { describeSubscription, type Subscription } from '../core/subscription';
import { timeframeGrid, type TimeframeGrid } from '../core/timeframe';
import { isoUtc } from '../core/time';
import { Engine } from '../engine/engine';
import { CandleHistory } from '../engine/history';
import { writeReport } from '../engine/live-report';
import { checkStaleAfter, DEFAULT_STALE_AFTER } from '../engine/stale';
import { tradedCandleDrain, type TradedCandle } from '../engine/traded-candles';
import { loadHistory } from '../feeds/history';
import { strategySnapshot } from '../portfolio/snapshot';
import { RunJournal } from '../report/journal';
import type { RunSummary } from '../report/run-summary';
import { createRunDir } from '../report/run-writer';
import { TradingJournal } from '../report/trading-journal';
import { findUnfinishedRun } from '../report/unfinished-run';
import type { LoadedStrategy } from '../strategy/loader';
import { hashParameters } from '../strategy/parameters';
import { readStoredCandles } from '../store/live-store';
import { TradeClient } from './trade-client';
import type { MarketDataMessage } from '../connector/market-data';

/** The topic of the snapshots workers publish for the portfolio. */
export const SNAPSHOT_TOPIC = systemTopic('snapshot');

/** The durable queue of strategy `id`'s worker on the bus. */
export function workerQueue(id: string): string {
  return `worker.${id}`;
}

/** What a worker runs. Times are UTC epoch ms; money in the quote currency. */
export interface StrategyWorkerOptions {
  /** The strategy's id in the node: its queue is `worker.<id>`, its snapshots carry it. */
  readonly id: string;
  readonly strategy: LoadedStrategy;
  readonly datasetsRoot: string;
  /** The connector's live candle store (read only here). */
  readonly storeRoot: string;
  /** This strategy's own folder of run folders. */
  readonly runsRoot: string;
  /** Whether the connector plays the simulator (its candles are stored under the exchange id `sim`). */
  readonly simulated: boolean;
  readonly broker?: Partial<BrokerConfig>;
  /** See `LiveOptions.staleAfter` (default 1). */
  readonly staleAfter?: number;
  /** Stop by itself after this many traded candles. */
  readonly maxCandles?: number;
  readonly bus: MessageBus;
  /** `mode: real`: mirror the paper orders on the exchange account through the node's connector. */
  readonly realOrders?: boolean;
  /** Aborting it stops the worker cleanly (finish the current candle, write the report). */
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
}

/** How a worker's run ended: its folder, its summary (null when it acted on no candle) and the candles it acted on. */
export interface StrategyWorkerResult {
  readonly dir: string;
  readonly summary: RunSummary | null;
  readonly liveCandles: readonly StoredCandle[];
}

interface Market {
  readonly subscription: Subscription;
  readonly topic: string;
  readonly grid: TimeframeGrid;
  history: CandleHistory;
  sequencer: CandleSequencer | null;
  /** Delivery details of candles buffered behind a hole, by open time. */
  readonly received: Map<number, { readonly live: boolean; readonly arrivedAt: number }>;
}

/**
 * Runs the strategy until stopped (see the module description).
 *
 * @throws the store's errors when its history cannot be read; the strategy's when acting on a candle fails (the
 *   report of the candles acted on is written first).
 */
export async function runStrategyWorker(options: StrategyWorkerOptions): Promise<StrategyWorkerResult> {
  const startedAt = Date.now();
  const { logger, strategy: loaded } = options;
  const staleAfter = checkStaleAfter(options.staleAfter ?? DEFAULT_STALE_AFTER);
  const [traded, ...informative] = loaded.subscriptions as [Subscription, ...Subscription[]];
  const storedAs = (s: Subscription): Subscription => (options.simulated ? { ...s, exchange: 'sim' } : s);
  const killed = findUnfinishedRun(options.runsRoot, {
    name: loaded.strategy.name,
    parametersHash: hashParameters({ ...loaded.strategy.params }),
    subscription: traded,
    stored: storedAs(traded),
  });
  const { runId, dir } = killed === null ? createRunDir(options.runsRoot, loaded.strategy.name) : { runId: killed.header.runId, dir: killed.dir };
  const client =
    options.realOrders === true
      ? await TradeClient.open({ bus: options.bus, strategyId: options.id, runId, symbol: traded.symbol, restoredEvents: killed?.events ?? [], ...(logger !== undefined && { logger }) }).catch(
          (error: unknown) => {
            if (killed === null) rmSync(dir, { recursive: true, force: true }); // a new run that never started leaves no folder
            throw error;
          },
        )
      : null;
  // The node's strategy id is part of the client order ids' key: two instances of one file on one account never share an id.
  const amountStep = client?.amountStep;
  const config = { strategyKey: `${options.id}/${strategyKeyOf(loaded.strategy)}`, ...brokerConfig({ ...(amountStep !== undefined && { amountStep }), ...options.broker }) };
  const broker = killed === null ? new PaperBroker(config) : PaperBroker.restore(config, killed.state, killed);
  if (client !== null) broker.addOrderListener(client.listener);
  const exposedBefore = broker.exposedCandles;
  const resumeAfter = killed?.state.lastTime ?? Number.NEGATIVE_INFINITY;
  /** A continued run's last candle acted on before the kill, until the continuation journals its resume. */
  const resumedAfter = killed?.state.lastTime ?? null;
  if (killed !== null) logger?.warn({ run: killed.dir, lastCandle: isoUtc(killed.state.lastTime) }, `${options.id}: continuing a killed run`);
  const engine = new Engine({ strategy: loaded.strategy, broker: client?.gate(broker) ?? broker, file: loaded.file, subscription: traded, informative });
  const trading = TradingJournal.open(dir, broker);
  const markets: Market[] = loaded.subscriptions.map((subscription) => ({
    subscription,
    topic: marketDataTopic(subscription),
    grid: timeframeGrid(subscription.timeframe),
    history: new CandleHistory(allocateBatch(0)),
    sequencer: null,
    received: new Map(),
  }));
  const tradedMarket = markets[0]!;
  const byTopic = new Map(markets.map((m) => [m.topic, m]));
  const liveCandles: StoredCandle[] = [];
  const pending: TradedCandle[] = [];
  let journal: RunJournal | null = null;
  /**
   * Whether a candle flagged live has come: from then on every new candle is acted on (the stale rule judges a late
   * one), also the warm-up backfill of a restarted connector, which closed while this worker was running.
   */
  let liveSeen = false;
  let running = true;
  let draining = Promise.resolve();
  let failure: { readonly error: unknown } | null = null;
  let resolveStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
  const stop = (): void => {
    running = false;
    resolveStopped();
  };
  options.signal?.addEventListener('abort', stop, { once: true });
  if (options.signal?.aborted === true) stop();

  /** Loads every subscription's history on the first traded candle (see the module description) and opens the journal. */
  const load = (first: StoredCandle, arrivedAt: number): RunJournal => {
    for (const m of markets) {
      const to = m === tradedMarket ? first.openTime : m.grid.bucketStart(arrivedAt);
      m.history = new CandleHistory(loadHistory(options.datasetsRoot, m.subscription, { root: options.storeRoot, subscription: storedAs(m.subscription) }, to));
      m.sequencer = new CandleSequencer(m.grid.nominalMs, m.history.lastOpenTime);
    }
    logger?.info({ candles: tradedMarket.history.length, run: dir }, `${options.id}: history for ${describeSubscription(traded)} loaded`);
    return killed !== null
      ? RunJournal.resume(dir, killed.state.lastTime)
      : RunJournal.create(dir, {
          runId,
          mode: 'live',
          file: loaded.file,
          strategy: engine.identity,
          subscription: traded,
          origin: {
            firstCandle: tradedMarket.history.batch.openTime[0] ?? Number.NaN,
            datasetsRoot: options.datasetsRoot,
            store: { root: options.storeRoot, subscription: storedAs(traded) },
          },
          startedAt,
          staleAfter,
          broker: config,
        });
  };

  /** Acts on queued traded candles whose informative candles have all arrived (none once stopping): runLive's loop. */
  let drain = async (): Promise<void> => undefined;
  const drainInto = (runJournal: RunJournal): (() => Promise<void>) =>
    tradedCandleDrain({
      engine,
      journal: runJournal,
      trading,
      markets,
      pending,
      acted: liveCandles,
      staleAfter,
      ...(options.maxCandles !== undefined && { maxCandles: options.maxCandles }),
      running: () => running,
      resumedAfter,
      stop,
      afterCandle: async () => {
        await client?.flush(); // write-ahead: after the candle's checkpoint
        await publishSnapshot(false);
      },
      logPrefix: `${options.id}: `,
      ...(logger !== undefined && { logger }),
    });

  const publishSnapshot = async (closedAtStop: boolean): Promise<void> => {
    const snapshot = strategySnapshot(options.id, traded.symbol, broker.snapshot(), broker.trades, config.initialCash);
    await options.bus.publish(SNAPSHOT_TOPIC, { ...snapshot, ...(closedAtStop && { closedAtStop }) }).catch((error: unknown) => {
      logger?.warn({ err: messageOf(error) }, `${options.id}: snapshot not published`);
    });
  };

  /** Takes one candle in sequence: into the history, then (live, traded) queued to be acted on. */
  const take = (market: Market, candle: StoredCandle, live: boolean, arrivedAt: number): void => {
    market.history.append(candle);
    if (!live || !running) return;
    if (market === tradedMarket) {
      if (candle.openTime > resumeAfter) pending.push({ candle, arrivedAt });
    } else {
      journal!.recordCandle({ ...candle, arrivedAt }, describeSubscription(market.subscription));
    }
  };

  const onMessage = (message: BusMessage): void => {
    if (failure !== null) throw failure.error; // not acknowledged: the next start gets it again
    const market = byTopic.get(message.topic);
    if (market === undefined) return;
    const body = message.body as MarketDataMessage;
    if (body.kind === 'revision') {
      // Before the history is loaded the store's version is read with it; after, a candle not yet taken arrives with
      // its final version from the store when its hole is filled, or is the revised one the connector re-published.
      if (market.history.lastOpenTime !== null && body.candle.openTime <= market.history.lastOpenTime && market.history.replace(body.candle)) {
        logger?.warn({ openTime: isoUtc(body.candle.openTime) }, `${options.id}: ${describeSubscription(market.subscription)}: candle revised by the exchange`);
      }
      return;
    }
    if (journal === null) {
      if (market !== tradedMarket) return; // in the store: read with the history at the first traded candle
      journal = load(body.candle, body.arrivedAt);
      drain = drainInto(journal);
    }
    const sequencer = market.sequencer!;
    liveSeen ||= body.live;
    const live = liveSeen;
    market.received.set(body.candle.openTime, { live, arrivedAt: body.arrivedAt });
    let step = sequencer.offer(body.candle);
    if (step.hole !== null) {
      // Every published candle was durable first: the store has the missing ones.
      const { from, to } = step.hole;
      const filled = candlesFromBatch(readStoredCandles(options.storeRoot, storedAs(market.subscription), { from, to }));
      let ready = [...step.ready];
      for (const candle of filled) {
        market.received.set(candle.openTime, { live, arrivedAt: body.arrivedAt });
        step = sequencer.offer(candle);
        ready = [...ready, ...step.ready];
      }
      step = { ...step, ready };
      if (filled.length > 0) logger?.warn({ from: isoUtc(from), to: isoUtc(to), candles: filled.length }, `${options.id}: ${market.topic}: hole filled from the store`);
    }
    for (const candle of step.ready) {
      const received = market.received.get(candle.openTime)!;
      market.received.delete(candle.openTime);
      take(market, candle as StoredCandle, received.live, received.arrivedAt);
    }
    for (const openTime of market.received.keys()) if (openTime <= (sequencer.lastOpenTime ?? -Infinity)) market.received.delete(openTime);
    draining = draining.then(drain).catch((error: unknown) => {
      failure ??= { error };
      stop();
    });
  };

  const consumer = await options.bus.consume({ queue: workerQueue(options.id), topics: markets.map((m) => m.topic), prefetch: 1 }, onMessage);
  await stopped;
  await consumer.close();
  await draining;
  await client?.close();
  let summary: RunSummary | null = null;
  try {
    if (liveCandles.length > 0) summary = await writeReport(dir, runId, startedAt, engine, broker, markets, liveCandles, exposedBefore);
  } catch (error) {
    if ((failure as { readonly error: unknown } | null) === null) throw error;
    logger?.error({ err: messageOf(error) }, `${dir}: the report could not be written either`);
  }
  if (summary !== null) {
    trading.checkpoint(summary.lastCandle);
    await publishSnapshot(true);
  }
  trading.close();
  (journal as RunJournal | null)?.close();
  // A new run stopped before its first candle (its history never loaded) leaves no folder behind.
  if ((journal as RunJournal | null) === null && killed === null) rmSync(dir, { recursive: true, force: true });
  const failed = failure as { readonly error: unknown } | null; // set by the drain's closure
  if (failed !== null) throw failed.error;
  return { dir, summary, liveCandles };
}
