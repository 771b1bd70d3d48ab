import type { Exchange } from 'ccxt';
import type { Candle } from '../core/candle';
import type { Logger } from '../core/logger';
import { isoUtc } from '../core/time';
import type { Broker } from '../engine/engine';
import type { Signal } from '../strategy/signal';
import type { AccountView } from '../strategy/account';
import type { PaperBroker } from './paper-broker';
import type { SignalDecision } from './types';
import { messageOf } from '../core/errors';

/**
 * A real order the router sent, as journaled in `orders.jsonl` (no credentials in it):
 * - `openTime`: open time (UTC epoch ms) of the candle whose signal caused it; `action`: that signal's action;
 * - `side`, `amount`: market order side and size in base currency (after the exchange's precision);
 * - `id`, `status`, `price` (average fill price, quote currency), or `error` when the exchange refused it.
 */
export interface RoutedOrder {
  readonly openTime: number;
  readonly action: Signal['action'];
  readonly side: 'buy' | 'sell';
  readonly amount: number;
  readonly id: string | null;
  readonly status: string | null;
  readonly price: number | null;
  readonly error?: string;
}

/**
 * Sends the signals the paper broker acts on to the exchange as spot MARKET orders, long only: `enter_long` buys the
 * stake the paper broker's sizing gives at the signal candle's close, `exit_long` sells what the router bought.
 * Short signals stay on paper (spot accounts cannot short). The paper broker still keeps the run's accounts and
 * metrics; the orders and their fills are journaled. Orders go out one at a time, in signal order; {@link flush}
 * waits for them.
 */
export class OrderRouter implements Broker {
  /** Every order sent, in order. */
  readonly orders: RoutedOrder[] = [];
  readonly #paper: PaperBroker;
  readonly #exchange: Exchange;
  readonly #symbol: string;
  readonly #logger: Logger | undefined;
  readonly #onOrder: ((order: RoutedOrder) => void) | undefined;
  #held = 0;
  #queue: Promise<void> = Promise.resolve();

  /**
   * @param exchange - a ccxt exchange with the account's credentials.
   * @param symbol - the traded symbol, e.g. `BTC/USDT`.
   * @param onOrder - called with each order once the exchange answered (to journal it).
   */
  constructor(paper: PaperBroker, exchange: Exchange, symbol: string, logger?: Logger, onOrder?: (order: RoutedOrder) => void) {
    this.#paper = paper;
    this.#exchange = exchange;
    this.#symbol = symbol;
    this.#logger = logger;
    this.#onOrder = onOrder;
  }

  /** The paper broker's account view. */
  get account(): AccountView {
    return this.#paper.account;
  }

  /** Passes the candle to the paper broker. */
  onCandle(candle: Candle): void {
    this.#paper.onCandle(candle);
  }

  /** Lets the paper broker decide; when it acts on a long signal, queues the matching market order. */
  submit(signal: Signal, candle: Candle): SignalDecision {
    const decision = this.#paper.submit(signal, candle);
    if (!decision.acted) return decision;
    if (signal.action === 'enter_short' || signal.action === 'exit_short') {
      this.#logger?.warn({ openTime: isoUtc(candle.openTime), signal }, 'short signals stay on paper: spot orders are long only');
      return decision;
    }
    const stake = signal.size ?? this.#paper.config.stake;
    const notional = 'quote' in stake ? stake.quote : stake.fraction * this.#paper.equity;
    const amount = signal.action === 'enter_long' ? notional / candle.close : this.#held;
    if (amount > 0) this.#queue = this.#queue.then(() => this.#send(candle.openTime, signal.action, amount));
    return decision;
  }

  /** Resolves once every order queued so far has been answered. */
  flush(): Promise<void> {
    return this.#queue;
  }

  async #send(openTime: number, action: Signal['action'], wanted: number): Promise<void> {
    const side = action === 'enter_long' ? 'buy' : 'sell';
    let order: RoutedOrder;
    try {
      const amount = Number(this.#exchange.amountToPrecision(this.#symbol, wanted));
      const answer = await this.#exchange.createOrder(this.#symbol, 'market', side, amount);
      const filled = answer.filled ?? amount;
      this.#held += side === 'buy' ? filled : -filled;
      order = { openTime, action, side, amount, id: answer.id ?? null, status: answer.status ?? null, price: answer.average ?? answer.price ?? null };
      this.#logger?.info({ order }, 'order filled');
    } catch (error) {
      const message = messageOf(error);
      order = { openTime, action, side, amount: wanted, id: null, status: null, price: null, error: message };
      this.#logger?.error({ order }, 'order refused');
    }
    this.orders.push(order);
    this.#onOrder?.(order);
  }
}
