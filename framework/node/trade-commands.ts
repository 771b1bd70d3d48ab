/**
 * Real orders on the trading node, the connector side: executes the `commands.execute_trade` that workers of
 * `mode: real` strategies send over the bus, on the one exchange account, and answers each with the standard events
 * on `events.<type>.<strategy id>` (see `node/trade-messages.ts`). The worker side is `node/trade-client.ts`.
 *
 * - **One executor per strategy run**, the {@link OrderExecutor} of `npm run live --real-orders` (client order ids,
 *   not sent / rejected / ambiguous, lookup before any resend), journaling in `<runs>/<strategy id>/<run id>/`
 *   (`orders.jsonl`, `events.jsonl`: on one machine, the worker's own run folder, as `npm run live --real-orders`
 *   leaves it). An `open` command from a worker (its start, or its restart after a crash) opens the run's executor or
 *   takes it up from its journal (an order left in flight is looked up, never resent), then runs the worker's
 *   catch-up (what its restored paper position asks for beyond the holding: nothing when the holding already matches).
 * - **Commands run one at a time**, in arrival order, each answered before the next starts; reconciliation passes run
 *   between them, never while an order is in flight: when a run opens (after its catch-up), then every interval.
 * - **Idempotent.** A command carries the id of the paper order event it mirrors; a command already executed (a
 *   redelivery, a resend) is answered with its known result and nothing is sent. Beyond that, an executor only ever
 *   sends the difference between the paper target and what the exchange filled for the run, under the next unused
 *   client order id, so a repeated target sends nothing, whatever the connector remembers.
 * - **Capital allocation** is enforced here, before an order is sent ({@link "execution/allocation"!allocationRefusal |
 *   allocationRefusal}): a buy that costs more than what the strategy has left of its allocation, at the last close
 *   the connector published for the symbol plus the taker fee, is refused (`trade_failed`, classification `not_sent`,
 *   journaled in `orders.jsonl`) and never sent. The worker's paper broker sizes within the same allocation, so this
 *   refuses only what a worker asks beyond it.
 * - **Reconciliation per strategy-owned position** ({@link ExchangeReconciliation}, the rules of `npm run live
 *   --real-orders`): per symbol, the account's balance of the base asset against the sum of the holdings the
 *   executors filled for the strategies trading it. Attribution: a difference the node's orders do not explain cannot
 *   be pinned on one of several strategies, so it is pinned on none: `external` (the account holds more) is reported
 *   to each and never traded; a shortfall, whether `unexplained` or explained by a sale outside the node
 *   (`closed_on_exchange` in a run), blocks new entries (buys) of every strategy holding the symbol (fail closed) until
 *   a later pass finds the account in sync (or holding more) again. Each strategy's worker is told
 *   (`events.position_mismatch.<id>` / `events.position_in_sync.<id>`) and refuses the entries on paper too (its
 *   signal journaled `blocked: reconciliation: …`, so `npm run diff` replays it); the connector refuses them anyway.
 *   The account-level records go to `<runs>/events.jsonl`.
 *
 * @module
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MessageBus, BusConsumer } from '../bus/bus';
import { strategyEventTopic } from '../bus/topics';
import { messageOf } from '../core/errors';
import type { Logger } from '../core/logger';
import { allocationRefusal, quoteAvailable } from '../execution/allocation';
import type { ExecutionLimits } from '../execution/decisions';
import { EventLog, type ExecutionEvent } from '../execution/events';
import { OrderExecutor, type OrderVenue } from '../execution/executor';
import { readOrderRecords, type OrderRecord } from '../execution/orders-journal';
import type { Finding, RunSymbolState } from '../execution/reconcile';
import { ExchangeReconciliation, type ReconciliationRecord, type ReconcilingExchange } from '../execution/reconcile-driver';
import { PeriodicPasses } from '../execution/periodic-passes';
import { DEFAULT_RECONCILE_INTERVAL_MS } from '../execution/reconcile-loop';
import { COMMAND_QUEUE, COMMAND_TOPICS, replyTopic, type ReconciliationNotice, type TradeCommand, type TradeReply } from './trade-messages';

/** A `mode: real` strategy of the node: its id, traded symbol and allocation (quote currency). */
export interface TradeDeskStrategy {
  readonly id: string;
  readonly symbol: string;
  /** Quote currency. */
  readonly allocation: number;
  /**
   * Whether its worker starts with the node (default true): a symbol is reconciled only once every enabled strategy
   * trading it has opened its run, since the holding of one not open yet (a continued run after the node's restart) is
   * unknown here and would look like coins of nobody's.
   */
  readonly enabled?: boolean;
}

/** Options of {@link TradeDesk.start}. */
export interface TradeDeskOptions {
  readonly bus: MessageBus;
  /** The account's trading instance (the connector's, with the keys). */
  readonly venue: OrderVenue & ReconcilingExchange;
  readonly strategies: readonly TradeDeskStrategy[];
  /** Each run's executor journals in `<runsRoot>/<strategy id>/<run id>/`; account-level records in `<runsRoot>/events.jsonl`. */
  readonly runsRoot: string;
  /** The last close the connector published for a symbol (quote per base): the allocation check's reference price. */
  readonly priceOf: (symbol: string) => number | undefined;
  /** Real ms between reconciliation passes (default 30 000). */
  readonly reconcileIntervalMs?: number;
  readonly limits?: Partial<ExecutionLimits>;
  readonly logger?: Logger;
}

/** One strategy run's executor on the account. */
interface Run {
  readonly strategy: TradeDeskStrategy;
  readonly runId: string;
  readonly executor: OrderExecutor;
  /** `orders.jsonl` lines written before this connector opened the run (a continued run). */
  readonly earlier: readonly OrderRecord[];
  /** Replies of the commands executed, by command id. */
  readonly answered: Map<string, TradeReply>;
  /** The events of the command being executed. */
  collected: ExecutionEvent[];
  /** The market's amount step (base), from the executor's start. */
  amountStep: number | undefined;
}

/** See the module description. */
export class TradeDesk {
  readonly #options: TradeDeskOptions;
  readonly #strategies: ReadonlyMap<string, TradeDeskStrategy>;
  readonly #runs = new Map<string, Run>();
  /** Strategies whose new entries reconciliation blocks, with the reason. */
  readonly #blocked = new Map<string, string>();
  readonly #accountEvents: EventLog;
  readonly #reconciliation: ExchangeReconciliation;
  readonly #startedAt = Date.now();
  #chain: Promise<unknown> = Promise.resolve();
  #consumer: BusConsumer | null = null;
  readonly #periodic: PeriodicPasses;

  private constructor(options: TradeDeskOptions) {
    this.#options = options;
    this.#strategies = new Map(options.strategies.map((s) => [s.id, s]));
    mkdirSync(options.runsRoot, { recursive: true });
    this.#accountEvents = new EventLog(options.runsRoot);
    this.#reconciliation = new ExchangeReconciliation({
      exchange: options.venue,
      runState: () => this.#accountState(),
      tradesSince: () => Math.min(this.#startedAt, ...[...this.#runs.values()].flatMap((r) => [...r.earlier, ...r.executor.records].slice(0, 1).map((o) => o.openTime))),
      onFinding: (record, finding) => this.#attribute(record, finding),
      ...(options.logger !== undefined && { logger: options.logger }),
    });
    this.#periodic = new PeriodicPasses({
      intervalMs: options.reconcileIntervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS,
      pass: () => this.reconcileNow(),
      ...(options.logger !== undefined && { logger: options.logger }),
    });
  }

  /**
   * Loads the account's markets, consumes the command queue and starts reconciliation (a pass every interval, between
   * commands).
   *
   * @throws ccxt's error when the account cannot be reached.
   */
  static async start(options: TradeDeskOptions): Promise<TradeDesk> {
    const desk = new TradeDesk(options);
    await options.venue.loadMarkets();
    desk.#consumer = await options.bus.consume({ queue: COMMAND_QUEUE, topics: COMMAND_TOPICS, prefetch: 1 }, (message) =>
      desk.#exclusive(() => desk.#handle(message.body as TradeCommand)),
    );
    desk.#periodic.start();
    return desk;
  }

  /** The strategies whose new entries are blocked by reconciliation, with the reason. */
  blocked(): ReadonlyMap<string, string> {
    return this.#blocked;
  }

  /** Runs a reconciliation pass now, between two commands. */
  reconcileNow(): Promise<void> {
    return this.#exclusive(async () => {
      if (this.#runs.size > 0) await this.#reconciliation.reconcileNow();
    });
  }

  /** Stops consuming and reconciling, waits for the command under way, closes the journals. */
  async stop(): Promise<void> {
    await this.#periodic.stop();
    await this.#consumer?.close();
    await this.#chain.catch(() => undefined);
    await this.#reconciliation.stop();
    for (const run of this.#runs.values()) run.executor.close();
    this.#accountEvents.close();
  }

  /** Runs `task` after every task queued before it (commands and passes never overlap). */
  #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const next = this.#chain.catch(() => undefined).then(task);
    this.#chain = next;
    return next;
  }

  /** Executes one command and publishes its reply (a rejection — the bus down — leaves the command to be redelivered). */
  async #handle(command: TradeCommand): Promise<void> {
    const strategy = this.#strategies.get(command.strategyId);
    let reply: TradeReply;
    if (strategy === undefined || strategy.symbol !== command.symbol) {
      reply = this.#reply(command, null, [], { error: `no real-mode strategy "${command.strategyId}" trading ${command.symbol} in this node` });
    } else {
      try {
        reply = command.kind === 'open' ? await this.#open(strategy, command) : await this.#order(command);
      } catch (error) {
        this.#options.logger?.error({ strategy: command.strategyId, command: command.commandId, err: messageOf(error) }, 'trade command failed');
        reply = this.#reply(command, this.#runs.get(command.strategyId) ?? null, [], { error: messageOf(error) });
      }
    }
    await this.#options.bus.publish(replyTopic(reply), reply);
  }

  async #open(strategy: TradeDeskStrategy, command: Extract<TradeCommand, { kind: 'open' }>): Promise<TradeReply> {
    let run = this.#runs.get(strategy.id);
    if (run?.runId !== command.runId) {
      if (run !== undefined) {
        run.executor.close();
        this.#runs.delete(strategy.id);
      }
      const dir = join(this.#options.runsRoot, strategy.id, command.runId);
      mkdirSync(dir, { recursive: true });
      const earlier = readOrderRecords(dir);
      const { logger } = this.#options;
      const opened: Run = {
        strategy,
        runId: command.runId,
        earlier,
        answered: new Map(),
        collected: [],
        amountStep: undefined,
        executor: new OrderExecutor({
          venue: this.#options.venue,
          symbol: strategy.symbol,
          strategy: strategy.id,
          dir,
          guard: (order) => this.#refusal(opened, order),
          onEvent: (event) => opened.collected.push(event),
          ...(this.#options.limits !== undefined && { limits: this.#options.limits }),
          ...(logger !== undefined && { logger: logger.child({ strategy: strategy.id }) }),
        }),
      };
      run = opened;
      run.amountStep = await run.executor.start(); // an order a killed connector left in flight: its events answered too
      this.#runs.set(strategy.id, run);
    } else {
      run.collected = [];
    }
    if (command.catchUp.length > 0) {
      run.executor.catchUp(command.catchUp);
      await run.executor.flush();
    }
    await this.#reconciliation.reconcileNow(); // at the run's (re)start, as `npm run live --real-orders`: inside the chain
    return this.#reply(command, run, run.collected, { amountStep: run.amountStep ?? null });
  }

  async #order(command: Extract<TradeCommand, { kind: 'order' }>): Promise<TradeReply> {
    const run = this.#runs.get(command.strategyId);
    if (run?.runId !== command.runId) throw new Error(`run ${command.runId} of ${command.strategyId} is not open on the connector (the worker opens it at its start)`);
    const known = run.answered.get(command.commandId);
    if (known !== undefined) return { ...known, known: true };
    run.collected = [];
    run.executor.onOrderEvent(command.event);
    await run.executor.flush();
    const reply = this.#reply(command, run, run.collected, {});
    run.answered.set(command.commandId, reply);
    return reply;
  }

  #reply(command: TradeCommand, run: Run | null, events: readonly ExecutionEvent[], extra: Pick<TradeReply, 'amountStep' | 'error'>): TradeReply {
    return { kind: 'reply', strategyId: command.strategyId, runId: command.runId, commandId: command.commandId, events: [...events], held: run?.executor.held ?? 0, known: false, ...extra };
  }

  /** The executor's guard: reconciliation's block (buys only), then the allocation. */
  #refusal(run: Run, order: { readonly side: 'buy' | 'sell'; readonly amount: number }): string | null {
    const blocked = order.side === 'buy' ? this.#blocked.get(run.strategy.id) : undefined;
    if (blocked !== undefined) return `blocked: reconciliation: ${blocked}`;
    const market = this.#options.venue.market(run.strategy.symbol);
    const allocation = run.strategy.allocation;
    return allocationRefusal({
      strategy: run.strategy.id,
      side: order.side,
      amount: order.amount,
      price: this.#options.priceOf(run.strategy.symbol),
      feeRate: market.taker ?? 0,
      allocation,
      available: quoteAvailable(allocation, [...run.earlier, ...run.executor.records], market.quote),
      base: market.base,
      quote: market.quote,
    });
  }

  /**
   * Per symbol traded by an open run: the sum of the strategies' holdings and every order of theirs; a symbol an
   * enabled strategy has not opened its run on yet is left out (see {@link TradeDeskStrategy.enabled}).
   */
  #accountState(): RunSymbolState[] {
    const bySymbol = new Map<string, Run[]>();
    for (const run of this.#runs.values()) bySymbol.set(run.strategy.symbol, [...(bySymbol.get(run.strategy.symbol) ?? []), run]);
    const waiting = new Set([...this.#strategies.values()].filter((s) => s.enabled !== false && !this.#runs.has(s.id)).map((s) => s.symbol));
    return [...bySymbol].filter(([symbol]) => !waiting.has(symbol)).map(([symbol, runs]) => {
      const orders = runs.flatMap((r) => [...r.earlier, ...r.executor.records]);
      return {
        symbol,
        base: this.#options.venue.market(symbol).base,
        position: Math.round(runs.reduce((sum, r) => sum + r.executor.held, 0) * 1e12) / 1e12,
        exchangeOrderIds: new Set(orders.flatMap((o) => (o.orderId === null ? [] : [o.orderId]))),
        clientOrderIds: new Set(orders.map((o) => o.clientOrderId)),
        unsettled: [],
      };
    });
  }

  /** Attributes a changed finding to the strategies trading its symbol (see the module description). */
  #attribute(record: ReconciliationRecord, finding: Finding): void {
    if (finding.kind === 'unknown') return;
    const ids = [...this.#runs.values()].filter((r) => r.strategy.symbol === finding.symbol).map((r) => r.strategy.id);
    const wasBlocked = ids.some((id) => this.#blocked.has(id));
    // As `npm run live --real-orders`: agreement is recorded only when it lifts a block.
    if (finding.kind !== 'in_sync' || wasBlocked) this.#accountEvents.write({ ...record, strategy: ids.join(','), clientOrderId: null });
    let blocked: string | null = null;
    if (finding.kind === 'unexplained') blocked = finding.reason;
    if (finding.kind === 'closed_on_exchange') {
      blocked = `the account holds ${Number(finding.closedQuantity.toPrecision(12))} less than the node's strategies (${ids.join(', ')}) hold on ${finding.symbol}, sold outside the node; not attributed to one strategy`;
    }
    for (const id of ids) {
      const was = this.#blocked.get(id);
      if (blocked !== null) this.#blocked.set(id, blocked);
      else this.#blocked.delete(id);
      if (blocked === null && was === undefined && finding.kind === 'in_sync') continue; // nothing to tell
      const notice: ReconciliationNotice = { kind: 'reconciliation', strategyId: id, blocked, event: record };
      void this.#options.bus.publish(strategyEventTopic(finding.kind === 'in_sync' ? 'position_in_sync' : 'position_mismatch', id), notice).catch((error: unknown) => {
        this.#options.logger?.warn({ strategy: id, err: messageOf(error) }, 'reconciliation notice not published');
      });
    }
    if (blocked !== null) this.#options.logger?.warn({ strategies: ids, reason: blocked }, `${finding.symbol}: new entries of ${ids.join(', ')} blocked until reconciliation finds the account in sync`);
  }
}
