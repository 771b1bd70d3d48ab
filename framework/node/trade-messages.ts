/**
 * The messages of real orders on the trading node: what a worker of a `mode: real` strategy sends on
 * `commands.execute_trade` and what the connector side answers on `events.<type>.<strategy id>`
 * (`node/trade-commands.ts` executes, `node/trade-client.ts` sends and waits). Plain JSON, the same on both buses.
 *
 * @module
 */
import type { OrderEvent } from '../broker/orders';
import { strategyEventTopic, TOPICS } from '../bus/topics';
import type { ExecutionEvent } from '../execution/events';

/**
 * A command on {@link TOPICS.executeTrade}:
 * - `open`: a worker starts (or continues) the run `runId` of `strategyId` on `symbol`; the connector opens (or takes
 *   up from its `orders.jsonl`) the run's executor and answers with the market's amount step. `catchUp`: a continued
 *   run's journaled paper order events the exchange may not have seen (see `OrderExecutor.catchUp`), oldest first;
 * - `order`: one paper order event to mirror; `commandId` identifies the event (the paper client order id, its status
 *   and filled quantity: deterministic, so a redelivered or resent command is recognised and answered with the known
 *   result).
 */
export type TradeCommand =
  | { readonly kind: 'open'; readonly strategyId: string; readonly runId: string; readonly symbol: string; readonly commandId: string; readonly catchUp: readonly OrderEvent[] }
  | { readonly kind: 'order'; readonly strategyId: string; readonly runId: string; readonly symbol: string; readonly commandId: string; readonly event: OrderEvent };

/**
 * The connector's answer to one command, on `events.trade_executed.<id>` (or `events.trade_failed.<id>` when an
 * order failed or was refused): the standard events the command produced (empty when the holding already matched),
 * the strategy's exchange holding after it (base), `known` when it was answered from an earlier execution of the same
 * command, `amountStep` (base; null when the exchange does not say) for `open`, and `error` when the command could
 * not be executed at all (the worker stops: nothing is known to be sent).
 */
export interface TradeReply {
  readonly kind: 'reply';
  readonly strategyId: string;
  readonly runId: string;
  readonly commandId: string;
  readonly events: readonly ExecutionEvent[];
  readonly held: number;
  readonly known: boolean;
  readonly amountStep?: number | null;
  readonly error?: string;
}

/**
 * A reconciliation finding about a symbol the strategy trades, on `events.position_mismatch.<id>` or
 * `events.position_in_sync.<id>`: `blocked` is the reason its new entries are refused (fail closed), null once
 * lifted; `event` the account-level record.
 */
export interface ReconciliationNotice {
  readonly kind: 'reconciliation';
  readonly strategyId: string;
  readonly blocked: string | null;
  readonly event: Readonly<Record<string, unknown>>;
}

/** What a worker receives on its `events.*.<id>` queue. */
export type StrategyEventMessage = TradeReply | ReconciliationNotice;

/** The topic a reply goes to (see {@link TradeReply}). */
export function replyTopic(reply: TradeReply): string {
  const failed = reply.error !== undefined || reply.events.some((e) => e.type === 'trade_failed');
  return strategyEventTopic(failed ? 'trade_failed' : 'trade_executed', reply.strategyId);
}

/** The connector's queue of commands (durable: a command waits there while the connector is down). */
export const COMMAND_QUEUE = 'connector.commands';

/** The bindings of {@link COMMAND_QUEUE}. */
export const COMMAND_TOPICS: readonly string[] = [TOPICS.executeTrade];
