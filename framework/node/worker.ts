/**
 * One strategy of the trading node, in its own process: the worker side of `npm run live`. It consumes its
 * strategy's market-data topics from the bus (one durable queue per worker), puts each subscription's candles back in
 * order with a {@link "bus/sequencer"!CandleSequencer | CandleSequencer} (duplicates and redeliveries dropped, a hole
 * filled from the connector's store), and hands them to the same worker side as {@link "node/live"!runLive | runLive}
 * ({@link "worker/strategy-run"!StrategyRun | StrategyRun}: engine, paper broker, journals and report), in a run
 * folder of its own: `npm run diff -- <strategy> --run <dir>` checks it like any live run.
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
import { strategyKeyOf, type BrokerConfig } from '../broker/broker-config';
import type { MessageBus, BusMessage } from '../bus/bus';
import { CandleSequencer } from '../bus/sequencer';
import { marketDataTopic, systemTopic } from '../bus/topics';
import type { MarketDataMessage } from '../connector/market-data';
import { candlesFromBatch, type StoredCandle } from '../core/candle';
import { messageOf } from '../core/errors';
import type { Logger } from '../core/logger';
import { describeSubscription } from '../core/subscription';
import { isoUtc } from '../core/time';
import { strategySnapshot } from '../portfolio/snapshot';
import type { RunSummary } from '../report/run-summary';
import type { LoadedStrategy } from '../strategy/loader';
import { readStoredCandles, storedSubscription } from '../store/live-store';
import { StrategyRun, type RunMarket } from '../worker/strategy-run';
import { TradeClient } from './trade-client';

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

/** One subscription as the worker sequences it: the run's market, its topic and its sequencer. */
interface Market {
  readonly run: RunMarket;
  readonly topic: string;
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
  const { logger, strategy: loaded } = options;
  const traded = loaded.subscriptions[0]!;
  const run = StrategyRun.open({
    strategy: loaded,
    runsRoot: options.runsRoot,
    datasetsRoot: options.datasetsRoot,
    storeRoot: options.storeRoot,
    simulated: options.simulated,
    // The node's connector plays the simulator from the datasets; its workers still read them as history.
    shippedHistory: true,
    ...(options.staleAfter !== undefined && { staleAfter: options.staleAfter }),
    ...(options.maxCandles !== undefined && { maxCandles: options.maxCandles }),
    ...(options.signal !== undefined && { signal: options.signal }),
    logPrefix: `${options.id}: `,
    ...(logger !== undefined && { logger }),
  });
  const client =
    options.realOrders === true
      ? await TradeClient.open({ bus: options.bus, strategyId: options.id, runId: run.runId, symbol: traded.symbol, restoredEvents: run.killed?.events ?? [], ...(logger !== undefined && { logger }) }).catch(
          (error: unknown) => {
            run.abandon(); // a new run that never started leaves no folder
            throw error;
          },
        )
      : null;
  const publishSnapshot = async (closedAtStop: boolean): Promise<void> => {
    const snapshot = strategySnapshot(options.id, traded.symbol, broker.snapshot(), broker.trades, broker.config.initialCash);
    await options.bus.publish(SNAPSHOT_TOPIC, { ...snapshot, ...(closedAtStop && { closedAtStop }) }).catch((error: unknown) => {
      logger?.warn({ err: messageOf(error) }, `${options.id}: snapshot not published`);
    });
  };
  const { broker } = run.begin({
    // The node's strategy id is part of the client order ids' key: two instances of one file on one account never share an id.
    strategyKey: `${options.id}/${strategyKeyOf(loaded.strategy)}`,
    ...(options.broker !== undefined && { broker: options.broker }),
    ...(client?.amountStep !== undefined && { amountStep: client.amountStep }),
    ...(client !== null && { orderListener: client.listener, gate: (paper) => client.gate(paper) }),
    afterCandle: async () => {
      await client?.flush(); // write-ahead: after the candle's checkpoint
      await publishSnapshot(false);
    },
  });
  const markets: Market[] = run.markets.map((m) => ({ run: m, topic: marketDataTopic(m.subscription), sequencer: null, received: new Map() }));
  const tradedMarket = markets[0]!;
  const byTopic = new Map(markets.map((m) => [m.topic, m]));
  /**
   * Whether a candle flagged live has come: from then on every new candle is acted on (the stale rule judges a late
   * one), also the warm-up backfill of a restarted connector, which closed while this worker was running.
   */
  let liveSeen = false;

  /** Loads every subscription's history on the first traded candle (see the module description) and opens the journal. */
  const load = (first: StoredCandle, arrivedAt: number): void => {
    for (const m of markets) {
      run.loadHistory(m.run, m === tradedMarket ? first.openTime : m.run.grid.bucketStart(arrivedAt));
      m.sequencer = new CandleSequencer(m.run.grid.nominalMs, m.run.history.lastOpenTime);
    }
    run.startJournal();
  };

  const onMessage = (message: BusMessage): void => {
    if (run.failure !== null) throw run.failure.error; // not acknowledged: the next start gets it again
    const market = byTopic.get(message.topic);
    if (market === undefined) return;
    const { history } = market.run;
    const body = message.body as MarketDataMessage;
    if (body.kind === 'revision') {
      // Before the history is loaded the store's version is read with it; after, a candle not yet taken arrives with
      // its final version from the store when its hole is filled, or is the revised one the connector re-published.
      if (history.lastOpenTime !== null && body.candle.openTime <= history.lastOpenTime && history.replace(body.candle)) {
        logger?.warn({ openTime: isoUtc(body.candle.openTime) }, `${options.id}: ${describeSubscription(market.run.subscription)}: candle revised by the exchange`);
      }
      return;
    }
    if (!run.journaling) {
      if (market !== tradedMarket) return; // in the store: read with the history at the first traded candle
      load(body.candle, body.arrivedAt);
    }
    const sequencer = market.sequencer!;
    liveSeen ||= body.live;
    const live = liveSeen;
    market.received.set(body.candle.openTime, { live, arrivedAt: body.arrivedAt });
    let step = sequencer.offer(body.candle);
    if (step.hole !== null) {
      // Every published candle was durable first: the store has the missing ones.
      const { from, to } = step.hole;
      const filled = candlesFromBatch(readStoredCandles(options.storeRoot, storedSubscription(market.run.subscription, options.simulated), { from, to }));
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
      // Acknowledged once in the history: the candles are acted on in the run's chain, not before the next delivery.
      void run.take(market.run, candle as StoredCandle, received.live, received.arrivedAt);
    }
    for (const openTime of market.received.keys()) if (openTime <= (sequencer.lastOpenTime ?? -Infinity)) market.received.delete(openTime);
  };

  const consumer = await options.bus.consume({ queue: workerQueue(options.id), topics: markets.map((m) => m.topic), prefetch: 1 }, onMessage);
  await run.stopped;
  await consumer.close();
  await run.idle();
  await client?.close(); // before the report: its close at the stop is not an exchange order
  const { dir, summary, liveCandles } = await run.finish(() => publishSnapshot(true));
  return { dir, summary, liveCandles };
}
