/**
 * Real orders on the trading node, the worker side: a `mode: real` strategy's worker sends each paper order event its
 * broker makes as a `commands.execute_trade` to the connector (`node/trade-commands.ts`) and waits for the answer on
 * its own queue (`worker.<id>.execution`, bound to `events.*.<id>`) before it acts on the next candle — the order of
 * `npm run live --real-orders`:
 *
 * - **Write-ahead.** The events are queued while the candle is acted on and published by {@link TradeClient.flush},
 *   which the worker calls after the candle's checkpoint in `trading.jsonl` is durable: a worker killed before the
 *   publication restarts with the paper decisions behind the lost commands, and its `open` command carries them
 *   ({@link catchUpEvents}): the connector sends what the restored paper position still asks for beyond the holding,
 *   nothing when the holding already matches (an order that went out before the kill is never sent twice).
 * - **Idempotent commands.** Each command's id is its paper order event's (client order id, status, filled
 *   quantity): deterministic, so a resent or redelivered command is answered with the known result. An answer to a
 *   command of an earlier life of the worker (it was killed while waiting) is skipped.
 * - **Fail closed.** A reconciliation notice blocking the strategy's entries makes {@link TradeClient.gate} refuse
 *   entry signals on paper (`blocked: reconciliation: …`, as `npm run live --real-orders` journals them, so that
 *   `npm run diff` replays the same decisions) until a notice lifts it.
 *
 * @module
 */
import type { OrderEvent, OrderListener } from '../broker/orders';
import type { BusConsumer, MessageBus } from '../bus/bus';
import { TOPICS } from '../bus/topics';
import { FrameworkError } from '../core/errors';
import type { Logger } from '../core/logger';
import { isMirrored, SpotShortError } from '../execution/mirrored';
import type { GatedBroker } from '../execution/reconcile-loop';
import type { StrategyEventMessage, TradeCommand, TradeReply } from './trade-messages';

/** Options of {@link TradeClient.open}. */
export interface TradeClientOptions {
  readonly bus: MessageBus;
  /** The strategy's id in the node (routes the answers). */
  readonly strategyId: string;
  /** The worker's run (the connector keeps one executor per run). */
  readonly runId: string;
  /** The traded symbol, e.g. `BTC/USDT`. */
  readonly symbol: string;
  /** A continued run's journaled order events, oldest first (empty for a new run); reduced by {@link catchUpEvents}. */
  readonly restoredEvents: readonly OrderEvent[];
  readonly logger?: Logger;
}

/**
 * The events of a restored run that `OrderExecutor.catchUp` reads: the `closed_on_exchange` ones, the last mirrored
 * one and the last one, in their order (the rest cannot change what it sends).
 */
export function catchUpEvents(events: readonly OrderEvent[]): OrderEvent[] {
  const mirrored = events.findLastIndex((e) => e.order.reason !== 'closed_on_exchange' && e.order.reason !== 'end_of_data');
  return events.filter((e, i) => e.order.reason === 'closed_on_exchange' || i === mirrored || i === events.length - 1);
}

/** The id of the command that mirrors `event`: its paper client order id, status and filled quantity. */
export function commandIdOf(event: OrderEvent): string {
  return `${event.order.clientOrderId}:${event.order.status}:${event.order.filledQuantity}`;
}

/** See the module description. */
export class TradeClient {
  /** The market's amount step (base) as the connector's exchange gives it, for the paper broker's `amountStep`. */
  readonly amountStep: number | undefined;
  /** The broker's order listener: queues each mirrored event for {@link flush}. */
  readonly listener: OrderListener = (event) => this.#onOrderEvent(event);

  readonly #options: TradeClientOptions;
  readonly #consumer: BusConsumer;
  readonly #state: ClientState;
  #queued: OrderEvent[] = [];

  private constructor(options: TradeClientOptions, consumer: BusConsumer, state: ClientState, amountStep: number | undefined) {
    this.#options = options;
    this.#consumer = consumer;
    this.#state = state;
    this.amountStep = amountStep;
  }

  /**
   * Joins the answer queue and opens the run on the connector (with the catch-up of a continued run); resolves once the
   * connector has answered.
   *
   * @throws {@link "core/errors"!FrameworkError | FrameworkError} when the connector cannot open the run (e.g. the
   *   strategy is not `mode: real` there, or an order left in flight cannot be resolved).
   */
  static async open(options: TradeClientOptions): Promise<TradeClient> {
    const state: ClientState = { waiting: new Map(), blocked: null };
    const { logger, strategyId } = options;
    const consumer = await options.bus.consume({ queue: `worker.${strategyId}.execution`, topics: [`events.*.${strategyId}`], prefetch: 1 }, (message) => {
      const body = message.body as StrategyEventMessage;
      if (body.kind === 'reconciliation') {
        const was = state.blocked;
        state.blocked = body.blocked;
        if (body.blocked !== null) logger?.warn({ reason: body.blocked }, `${strategyId}: new entries blocked by reconciliation`);
        else if (was !== null) logger?.warn(`${strategyId}: reconciled with the exchange; new entries resumed`);
        else logger?.warn({ finding: body.event['finding'] }, `${strategyId}: reconciliation: the account holds more than the node's strategies own; never traded`);
        return;
      }
      const resolve = state.waiting.get(body.commandId);
      if (resolve === undefined) {
        logger?.info({ command: body.commandId }, `${strategyId}: an answer to a command of an earlier start, skipped`);
        return;
      }
      state.waiting.delete(body.commandId);
      resolve(body);
    });
    const command: TradeCommand = {
      kind: 'open',
      strategyId,
      runId: options.runId,
      symbol: options.symbol,
      commandId: `open:${options.runId}:${process.pid}:${Date.now()}`,
      catchUp: catchUpEvents(options.restoredEvents),
    };
    let reply: TradeReply;
    try {
      reply = await send(options.bus, state, command);
      if (reply.error !== undefined) throw new FrameworkError(`${strategyId}: the connector could not open the run for real orders: ${reply.error}`);
    } catch (error) {
      await consumer.close();
      throw error;
    }
    report(reply, logger);
    return new TradeClient(options, consumer, state, reply.amountStep ?? undefined);
  }

  /**
   * `broker` as the engine should drive it: while reconciliation blocks the strategy, an entry signal (adds included)
   * is refused with the reason `blocked: reconciliation: …`; exits go through.
   */
  gate(broker: GatedBroker): GatedBroker {
    return {
      account: broker.account,
      onCandle: (candle) => broker.onCandle(candle),
      submit: (signal, candle) => {
        const blocked = this.#state.blocked;
        if (blocked !== null && (signal.action === 'enter_long' || signal.action === 'enter_short')) {
          return { acted: false, reason: `blocked: reconciliation: ${blocked}` };
        }
        return broker.submit(signal, candle);
      },
    };
  }

  /** Why reconciliation blocks the strategy's new entries, or null (as the connector's last notice said). */
  blocked(): string | null {
    return this.#state.blocked;
  }

  /**
   * Sends the queued commands one at a time, each once the previous is answered (call after the candle's checkpoint).
   *
   * @throws {@link "core/errors"!FrameworkError | FrameworkError} when the connector could not execute a command at
   *   all (the worker stops; its restart catches up); the bus's error when a command cannot be published.
   */
  async flush(): Promise<void> {
    while (this.#queued.length > 0) {
      const event = this.#queued[0]!;
      const { strategyId, runId, symbol, bus, logger } = this.#options;
      const reply = await send(bus, this.#state, { kind: 'order', strategyId, runId, symbol, commandId: commandIdOf(event), event });
      this.#queued.shift();
      if (reply.error !== undefined) throw new FrameworkError(`${strategyId}: the connector could not execute order ${event.order.clientOrderId}: ${reply.error}`);
      report(reply, logger);
    }
  }

  /** Stops consuming answers (call after {@link flush}). */
  async close(): Promise<void> {
    await this.#consumer.close();
  }

  #onOrderEvent(event: OrderEvent): void {
    if (!isMirrored(event)) return;
    if (event.targetQuantity < 0) {
      const { order } = event;
      throw new SpotShortError(
        `mode: real: strategy "${this.#options.strategyId}" opened a short (${order.reason} ${order.side} decided on the candle of ${new Date(order.decidedAt).toISOString()}), but a spot account cannot short`,
      );
    }
    this.#queued.push(event);
  }
}

interface ClientState {
  readonly waiting: Map<string, (reply: TradeReply) => void>;
  blocked: string | null;
}

/** Publishes `command` and resolves with its answer. */
async function send(bus: MessageBus, state: ClientState, command: TradeCommand): Promise<TradeReply> {
  const answered = new Promise<TradeReply>((resolve) => state.waiting.set(command.commandId, resolve));
  await bus.publish(TOPICS.executeTrade, command);
  return answered;
}

/** Logs what an answer says happened on the exchange. */
function report(reply: TradeReply, logger: Logger | undefined): void {
  for (const event of reply.events) {
    if (event.type === 'trade_failed') logger?.warn({ clientOrderId: event.clientOrderId, classification: event.classification, message: event.message }, `${reply.strategyId}: order failed`);
    else if (event.type === 'trade_executed') logger?.info({ clientOrderId: event.clientOrderId, filled: event.filled, average: event.average, held: event.held }, `${reply.strategyId}: order filled`);
  }
}
