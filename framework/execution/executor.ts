/**
 * The exchange side of a real-orders run: mirrors every paper fill on a spot account, so that the exchange holding of
 * the traded base asset follows the paper position.
 *
 * **Model.** The paper broker ({@link "broker/paper-broker"!PaperBroker | PaperBroker}) stays the run's one order and
 * position model (the same in backtest, paper live and real live). For each {@link OrderEvent} it emits (in order),
 * the executor sends one spot MARKET order, with the paper order's client order id, for the difference between the
 * event's `targetQuantity` and what the exchange has actually filled for this run (its own fills, net of fees charged
 * in the base currency — not the account's whole balance), rounded to the market's amount precision
 * (`amountToPrecision`, truncating). Entries, DCA adds, exits, partial exits, reversals, stop-losses and take-profits
 * all become exchange orders that way; an event that leaves nothing to do (the holding already matches, or the
 * difference is below the amount precision) sends nothing. Events are queued, not sent: the orders go out one at a
 * time, in event order, when {@link OrderExecutor.flush} is called, which the run does after it has journaled (and
 * fsynced) the paper decision behind them — write-ahead, so a run killed while an order is in flight restarts with the
 * paper position, stops and orders that order belongs to (see {@link OrderExecutor.catchUp}).
 *
 * **Stops are not placed on the exchange.** A working stop-loss or take-profit stays on paper; when the paper broker's
 * trigger fires (checked on each closed candle's high/low), its fill event becomes a market order sent at that
 * candle's close. So paper and real stay one model: an exchange stop order would fill intra-candle, at prices and
 * times the replay cannot see, and the two would diverge. The cost is latency: the real exit goes out up to one
 * candle after the price crossed the level (and fills at the then market price, not the level); a strategy that
 * needs tighter stops should trade a shorter timeframe.
 *
 * **Spot cannot short.** An event whose target is a short raises {@link SpotShortError}, which stops the run
 * (`runLive` also refuses at start a strategy declaring `canShort`).
 *
 * **Failures** are classified ({@link "execution/failures"!classifyFailure | classifyFailure}) and handled by the pure
 * core ({@link "execution/decisions"!nextStep | nextStep}): an ambiguous order (sent, no answer) is looked up by its
 * client order id before anything is sent again, and sent again with the same id only when the exchange proves it does
 * not have it, so a timeout never doubles an order; a 429 waits out its `Retry-After`; a partial fill leaves a
 * difference that follow-up orders (client ids `<id>r1`, `<id>r2`, bounded) complete. A difference worth less than the
 * market's minimum order value (Binance's NOTIONAL filter, 5 USDT) is not sent but left for the position's next order
 * (e.g. what the paper broker could not afford when the open gapped above the deciding close). An order given up is
 * journaled and reported as `trade_failed`; the next event drives the holding to its target again.
 *
 * **Sold outside the run.** A paper `closed_on_exchange` order (reconciliation found the holding sold by hand, see
 * `execution/reconcile-loop.ts`) sends nothing: once the paper broker has booked it, the holding drops by the order's
 * `quantity` (what the exchange sold of the run's holding), journaled as a `reconcile` line. When the paper position
 * held less than that (the order is `cancelled` with `filledQuantity` below its `quantity`: e.g. the exchange had
 * filled more for the run than the paper broker could afford), the holding still drops by the whole sale, so the run
 * and the account agree again, and the part beyond the paper position is reported as a `position_mismatch` event
 * (`finding: 'sold_beyond_paper'`); nothing is traded to make it up.
 *
 * **Records.** Every request and its outcome goes to `orders.jsonl` ({@link OrderRecord}), every fill or final
 * failure to `events.jsonl` ({@link "execution/events"!ExecutionEvent | ExecutionEvent}); each line is fsynced before
 * the next request, and an order's `sending` line before the order goes out, so a run killed during a request leaves
 * the client order id to look up. No credentials are written.
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Exchange, Order as CcxtOrder } from 'ccxt';
import { InvalidOrder } from '../core/ccxt';
import type { Logger } from '../core/logger';
import { FrameworkError, messageOf } from '../core/errors';
import { isoUtc } from '../core/time';
import type { Order, OrderEvent, OrderListener } from '../broker/orders';
import { DEFAULT_LIMITS, exchangeClientOrderId, heldAfter, nextStep, orderTowards, type ExchangeAnswer, type ExecutionLimits, type Outcome, type Step } from './decisions';
import { EventLog, type ExecutionEvent } from './events';
import { classifyFailure, isOrderNotFound, type Failure } from './failures';
import { isMirrored, SpotShortError } from './mirrored';
import { OrdersJournal, readOrderRecords, type OrderRecord } from './orders-journal';

/**
 * The ccxt calls the executor makes (a ccxt `Exchange` with the account's credentials has them all; a shared
 * connector can provide them instead). `last_response_headers` is read for a 429's `Retry-After`.
 */
export type OrderVenue = Pick<Exchange, 'loadMarkets' | 'market' | 'amountToPrecision' | 'createOrder' | 'fetchOrder' | 'precisionMode'> & {
  readonly last_response_headers?: Readonly<Record<string, string>> | undefined;
};

/** Options of {@link OrderExecutor}. */
export interface ExecutorOptions {
  /** The exchange account (ccxt, with credentials). */
  readonly venue: OrderVenue;
  /** The traded symbol, e.g. `BTC/USDT`. */
  readonly symbol: string;
  /** The strategy's name, for the events. */
  readonly strategy: string;
  /** The run folder: `orders.jsonl` and `events.jsonl` are appended there. */
  readonly dir: string;
  /** Retry bounds and waits; unset fields take {@link "execution/decisions"!DEFAULT_LIMITS | DEFAULT_LIMITS}. */
  readonly limits?: Partial<ExecutionLimits>;
  /**
   * Checked before each exchange order is sent, after the market's precision and minimum order value: why the order
   * must not go out (it is then journaled `not_sent` with that message and reported as `trade_failed`), or null. The
   * trading node's connector refuses here what a strategy's capital allocation does not cover, and entries of a
   * strategy blocked by reconciliation (`node/trade-commands.ts`).
   */
  readonly guard?: (order: { readonly side: 'buy' | 'sell'; readonly amount: number; readonly clientOrderId: string }) => string | null;
  /** Receives every event as it is written to `events.jsonl` (the trading node replies with them to the worker). */
  readonly onEvent?: (event: ExecutionEvent) => void;
  readonly logger?: Logger;
}

/** ccxt's precision modes (`ccxt/js/src/base/functions/number.js`; not exported by its type declarations). */
const DECIMAL_PLACES = 2;
const TICK_SIZE = 4;

/** Mirrors a paper broker's orders on the exchange (see the module doc). Register {@link listener} with the broker. */
export class OrderExecutor {
  /** Every exchange request and its outcome, in order (as journaled). */
  readonly records: OrderRecord[] = [];
  /** The broker's order listener: queues the exchange order that mirrors each event. */
  readonly listener: OrderListener = (event) => this.onOrderEvent(event);

  readonly #venue: OrderVenue;
  readonly #symbol: string;
  readonly #strategy: string;
  readonly #limits: ExecutionLimits;
  readonly #logger: Logger | undefined;
  readonly #orders: OrdersJournal;
  readonly #dir: string;
  readonly #events: EventLog;
  readonly #guard: ExecutorOptions['guard'];
  readonly #onEvent: ExecutorOptions['onEvent'];
  /** Exchange orders used so far per paper client order id (the next follow-up's suffix). */
  readonly #used = new Map<string, number>();
  #held = 0;
  /** Average price of the run's last exchange fill (quote currency): the reference for the minimum order value. */
  #lastPrice: number | null = null;
  /** Orders queued by {@link onOrderEvent}, sent by the next {@link flush}. */
  #waiting: (() => Promise<void> | void)[] = [];
  #queue: Promise<void> = Promise.resolve();
  #broken: { readonly error: unknown } | null = null;
  #closed = false;

  constructor(options: ExecutorOptions) {
    this.#venue = options.venue;
    this.#symbol = options.symbol;
    this.#strategy = options.strategy;
    this.#limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#logger = options.logger;
    this.#dir = options.dir;
    this.#orders = new OrdersJournal(options.dir);
    this.#events = new EventLog(options.dir);
    this.#guard = options.guard;
    this.#onEvent = options.onEvent;
  }

  /**
   * Loads the exchange's markets (amount precision, base currency) and checks the symbol is one of them; call before the
   * first event.
   *
   * In a run folder that already has an `orders.jsonl` (a killed run continued), takes up where it stopped: the
   * holding and the client order ids used so far come from the journal, and an order whose `sending` line has no
   * answer after it (the run died during the request) is looked up by its client order id and its fill, if the exchange
   * has it, counted; it is never sent again as such: what the paper position still asks for after it goes out with
   * {@link catchUp}.
   *
   * @returns the market's amount step in base currency (e.g. 0.00001 BTC), for the paper broker's `amountStep`, so
   *   that paper quantities are ones the exchange can trade; undefined when the exchange does not say.
   * @throws ccxt's error when the exchange cannot be reached or does not list the symbol (`BadSymbol`);
   *   {@link "core/errors"!FrameworkError | FrameworkError} when an order left in flight cannot be resolved (its fill
   *   unknown, nothing may be sent).
   */
  async start(): Promise<number | undefined> {
    await this.#venue.loadMarkets();
    await this.#resume();
    const precision = this.#venue.market(this.#symbol).precision.amount;
    if (precision === undefined) return undefined;
    if (this.#venue.precisionMode === TICK_SIZE) return precision;
    return this.#venue.precisionMode === DECIMAL_PLACES ? 10 ** -precision : undefined;
  }

  /** The base quantity the exchange has filled for this run so far (buys − sells − fees paid in base). */
  get held(): number {
    return this.#held;
  }

  /**
   * Queues the exchange order that mirrors `event` (see the module doc); {@link flush} sends it. Working stop and limit
   * orders stay on paper: only market orders and stop / limit orders that filled are mirrored. Nothing is mirrored once {@link close}d, nor the
   * report's close at the end of a run (`end_of_data`): stopping a run leaves the exchange position in place (as
   * freqtrade does), for the next run to take over — including an order sent on the last candle that the paper broker
   * had not filled yet when the run stopped.
   *
   * @throws {@link "execution/mirrored"!SpotShortError | SpotShortError} when the event's target is a short.
   */
  onOrderEvent(event: OrderEvent): void {
    const { order, targetQuantity } = event;
    if (this.#closed || !isMirrored(event)) return;
    if (order.reason === 'closed_on_exchange') {
      // Sold outside the run (reconciliation found it): nothing to send; the run's holding is that much smaller.
      this.#waiting.push(() => this.#settle(order, targetQuantity));
      return;
    }
    if (targetQuantity < 0) {
      throw new SpotShortError(
        `--real-orders: strategy "${this.#strategy}" opened a short (${order.reason} ${order.side} decided on the candle of ${isoUtc(order.decidedAt)}), but a spot account cannot short: emit no enter_short, or run without --real-orders`,
      );
    }
    this.#waiting.push(() => this.#mirror(order, targetQuantity));
  }

  /**
   * After a restart in the same run folder (after {@link start}), takes up the paper events of the killed run that
   * the exchange may not have seen: the run journals a candle's paper decisions (`trading.jsonl`) before its orders go
   * out, so a kill can leave them checkpointed but not (all) sent. `events` are the restored trading journal's order
   * events, oldest first. Queues (for {@link flush}):
   * - the `closed_on_exchange` orders booked on paper with no `reconcile` line in `orders.jsonl` (counted off the
   *   holding, see the module doc);
   * - then an order that drives the holding to the last event's target (the restored paper position with its pending
   *   orders), under the client order id of the last event that is mirrored (a follow-up `r<n>` id once that id was
   *   used): nothing when the holding already matches.
   */
  catchUp(events: readonly OrderEvent[]): void {
    const settled = new Set(readOrderRecords(this.#dir).filter((r) => r.request === 'reconcile').map((r) => r.paperClientOrderId));
    for (const event of events) {
      const { order } = event;
      if (order.reason !== 'closed_on_exchange' || settled.has(order.clientOrderId)) continue;
      if (order.status === 'filled' || order.status === 'cancelled') this.onOrderEvent(event);
    }
    const last = events.at(-1);
    const mirrored = events.findLast((e) => e.order.reason !== 'closed_on_exchange' && e.order.reason !== 'end_of_data');
    if (last === undefined || mirrored === undefined || this.#closed) return;
    this.#waiting.push(() => this.#mirror(mirrored.order, last.targetQuantity));
  }

  /**
   * Sends the orders queued so far, one at a time in event order, and resolves once each is done (filled or given up).
   *
   * @throws the journal's file-system error, if writing a record failed (the orders after it were not sent).
   */
  async flush(): Promise<void> {
    for (const task of this.#waiting.splice(0)) this.#queue = this.#queue.then(task);
    await this.#queue;
    if (this.#broken !== null) throw this.#broken.error;
  }

  /** Stops mirroring and closes `orders.jsonl` and `events.jsonl` (call after {@link flush}). */
  close(): void {
    this.#closed = true;
    this.#orders.close();
    this.#events.close();
  }

  async #mirror(order: Order, target: number): Promise<void> {
    if (this.#broken !== null) return;
    try {
      for (let followUps = 0; followUps <= this.#limits.maxFollowUps; followUps += 1) {
        const wanted = orderTowards(target, this.#held);
        if (wanted === null) return;
        const attempt = this.#used.get(order.clientOrderId) ?? 0;
        const command = { order, target, clientOrderId: exchangeClientOrderId(order.clientOrderId, attempt), side: wanted.side, amount: wanted.amount };
        // Checked before anything is sent: the exchange's precision and minimum order value.
        let amount = wanted.amount;
        let refusal: string | null;
        try {
          amount = this.#rounded(wanted.amount);
          refusal = amount === 0 ? null : (this.#belowMinimum(amount) ?? this.#guard?.({ side: wanted.side, amount, clientOrderId: command.clientOrderId }) ?? null);
        } catch (error) {
          refusal = messageOf(error);
        }
        if (refusal !== null) {
          const failure: Failure = { classification: 'not_sent', message: refusal };
          this.#journal({ ...command, amount }, 'create', { kind: 'send_failed', failure });
          this.#failed({ ...command, amount }, failure);
          return;
        }
        if (amount === 0) return;
        this.#used.set(order.clientOrderId, attempt + 1);
        if ((await this.#execute({ ...command, amount })).kind !== 'done') return;
      }
    } catch (error) {
      this.#broken = { error };
      this.#logger?.error({ error: messageOf(error) }, 'real orders stopped');
    }
  }

  /**
   * Counts a `closed_on_exchange` fill of the paper broker: the exchange sold `order.filledQuantity` of the run's
   * holding outside the run, so the holding drops by that much; journaled in `orders.jsonl` (request `reconcile`,
   * status `closed_on_exchange`) so that a restart takes up the smaller holding. Nothing is sent.
   */
  #settle(order: Order, target: number): void {
    if (this.#broken !== null) return;
    try {
      const held = Math.round((this.#held - order.quantity) * 1e12) / 1e12;
      const record: OrderRecord = {
        time: Date.now(),
        request: 'reconcile',
        clientOrderId: order.clientOrderId,
        paperClientOrderId: order.clientOrderId,
        reason: order.reason,
        openTime: order.decidedAt,
        side: order.side,
        amount: order.quantity,
        target,
        held,
        orderId: null,
        status: 'closed_on_exchange',
        filled: order.quantity,
        average: order.averagePrice,
        fee: null,
        failure: null,
      };
      this.#orders.write(record);
      this.records.push(record);
      this.#held = held;
      const beyondPaper = Math.round((order.quantity - order.filledQuantity) * 1e12) / 1e12;
      if (beyondPaper > 0) {
        this.#emit({
          type: 'position_mismatch',
          finding: 'sold_beyond_paper',
          time: Date.now(),
          strategy: this.#strategy,
          symbol: this.#symbol,
          clientOrderId: null,
          openTime: order.decidedAt,
          soldQuantity: order.quantity,
          paperQuantity: order.filledQuantity,
          beyondPaper,
          price: order.averagePrice,
          held,
        });
        this.#logger?.warn(
          { soldQuantity: order.quantity, paperQuantity: order.filledQuantity, beyondPaper, held },
          `${this.#symbol}: sold outside the run ${beyondPaper} more than the paper position held; counted off the run's holding, not traded`,
        );
      }
    } catch (error) {
      this.#broken = { error };
      this.#logger?.error({ error: messageOf(error) }, 'real orders stopped');
    }
  }

  /**
   * `amount` after the market's amount precision; 0 when it truncates to nothing (ccxt's `amountToPrecision` throws
   * `InvalidOrder` for that case only).
   */
  #rounded(amount: number): number {
    try {
      return Number(this.#venue.amountToPrecision(this.#symbol, amount));
    } catch (error) {
      if (error instanceof InvalidOrder) return 0;
      throw error;
    }
  }

  /**
   * Why `amount` is below the market's minimum order value (`limits.cost.min`, Binance's NOTIONAL filter) at the
   * run's last fill price, or null when it is not (or no fill price is known yet: the exchange decides). Such a
   * difference — e.g. what the paper broker could not afford when the open gapped up — is left for the next order of
   * the position, which trades it with the rest.
   */
  #belowMinimum(amount: number): string | null {
    const minimum = this.#venue.market(this.#symbol).limits.cost?.min;
    if (this.#lastPrice === null || minimum === undefined || amount * this.#lastPrice >= minimum) return null;
    const { base, quote } = this.#venue.market(this.#symbol);
    return `${amount} ${base} ≈ ${(amount * this.#lastPrice).toFixed(2)} ${quote} is below the market's minimum order value ${minimum} ${quote}: left for the next order`;
  }

  /** Takes up an earlier run's journal in the same folder (see {@link start}). */
  async #resume(): Promise<void> {
    const records = readOrderRecords(this.#dir);
    const last = records.at(-1);
    if (last === undefined) return;
    this.#held = last.held;
    this.#lastPrice = records.findLast((r) => r.average !== null)?.average ?? null;
    for (const record of records) {
      const suffix = record.clientOrderId.slice(record.paperClientOrderId.length); // '' or 'r<n>'
      const used = suffix === '' ? 1 : Number(suffix.slice(1)) + 1;
      this.#used.set(record.paperClientOrderId, Math.max(this.#used.get(record.paperClientOrderId) ?? 0, used));
    }
    if (last.status !== 'sending') return; // orders go out one at a time: only the last line can be unanswered
    const order: Order = {
      clientOrderId: last.paperClientOrderId,
      side: last.side,
      type: 'market',
      reason: last.reason,
      quantity: last.amount,
      decidedAt: last.openTime,
      status: 'accepted',
      filledQuantity: 0,
      averagePrice: Number.NaN,
    };
    const command: Command = { order, target: last.target, clientOrderId: last.clientOrderId, side: last.side, amount: last.amount };
    this.#logger?.warn({ clientOrderId: command.clientOrderId }, 'an order was in flight when the run stopped: looking it up');
    const end = await this.#execute(command, 'resume');
    if (end.kind === 'give_up' && end.failure.classification === 'ambiguous') {
      throw new FrameworkError(`--real-orders: order ${command.clientOrderId}, in flight when the run stopped, cannot be resolved (${end.failure.message}); nothing is sent until it is: run again once the exchange answers`);
    }
  }

  /**
   * Runs one exchange order to its end: sends it, or (`resume`) only looks it up — a resumed order found absent never
   * reached the exchange and is not sent again. Filled (wholly or partly) ends `done`; anything else `give_up`.
   */
  async #execute(command: Command, start: 'send' | 'resume' = 'send'): Promise<Extract<Step, { kind: 'done' | 'give_up' }>> {
    let sends = start === 'resume' ? this.#limits.maxSends : 1;
    let queries = start === 'resume' ? 1 : 0;
    let outcome = start === 'resume' ? await this.#query(command) : await this.#send(command);
    for (;;) {
      let step = nextStep(outcome, { sends, queries }, this.#limits);
      if (start === 'resume' && outcome.kind === 'absent') {
        step = { kind: 'give_up', failure: { classification: 'not_sent', message: 'in flight when the run stopped, it never reached the exchange' } };
      }
      if (step.kind === 'wait') {
        await sleep(step.ms);
        step = { kind: step.then };
      }
      switch (step.kind) {
        case 'send':
          outcome = await this.#send(command);
          sends += 1;
          break;
        case 'query':
          outcome = await this.#query(command);
          queries += 1;
          break;
        case 'done':
          if (step.answer.filled === 0) {
            const failure: Failure = { classification: 'rejected', message: `the exchange ended the order (${step.answer.status ?? 'no status'}) without a fill` };
            this.#failed(command, failure);
            return { kind: 'give_up', failure };
          }
          this.#filled(command, step.answer);
          return step;
        case 'give_up':
          this.#failed(command, step.failure);
          return step;
      }
    }
  }

  async #send(command: Command): Promise<Outcome> {
    this.#record(command, 'create', null); // write-ahead: a run killed during the request leaves this line unanswered
    try {
      const answer = await this.#venue.createOrder(this.#symbol, 'market', command.side, command.amount, undefined, {
        newClientOrderId: command.clientOrderId,
      });
      return this.#journal(command, 'create', { kind: 'answered', answer: this.#answer(answer) });
    } catch (error) {
      return this.#journal(command, 'create', { kind: 'send_failed', failure: this.#classify(error) });
    }
  }

  async #query(command: Command): Promise<Outcome> {
    try {
      // Looked up by client order id only (ccxt binance sends `origClientOrderId` and no `orderId`): ccxt types the
      // exchange's id as required, but an ambiguous order has none.
      const answer = await this.#venue.fetchOrder(undefined as unknown as string, this.#symbol, { origClientOrderId: command.clientOrderId });
      return this.#journal(command, 'fetch', { kind: 'answered', answer: this.#answer(answer) });
    } catch (error) {
      const outcome: Outcome = isOrderNotFound(error) ? { kind: 'absent' } : { kind: 'query_failed', failure: this.#classify(error) };
      return this.#journal(command, 'fetch', outcome);
    }
  }

  #classify(error: unknown): Failure {
    return classifyFailure(error, this.#venue.last_response_headers?.['Retry-After'], this.#limits.rateLimitWaitMs);
  }

  #answer(order: CcxtOrder): ExchangeAnswer {
    const base = this.#venue.market(this.#symbol).base;
    const fees = (order as CcxtOrder & { fees?: CcxtOrder['fee'][] }).fees ?? (order.fee === undefined ? [] : [order.fee]);
    const baseFee = fees.reduce((sum, fee) => sum + (fee?.currency === base ? (fee.cost ?? 0) : 0), 0);
    const fee = order.fee?.cost !== undefined && order.fee.currency !== undefined ? { cost: order.fee.cost, currency: order.fee.currency } : null;
    return { orderId: order.id ?? null, status: order.status ?? null, filled: order.filled ?? 0, average: order.average ?? null, baseFee, fee };
  }

  /** Journals a request's outcome (fsynced) and returns it. */
  #journal(command: Command, request: 'create' | 'fetch', outcome: Outcome): Outcome {
    this.#record(command, request, outcome);
    return outcome;
  }

  /** Writes one `orders.jsonl` line (fsynced): a request's outcome, or (`null`) an order about to be sent. */
  #record(command: Command, request: 'create' | 'fetch', outcome: Outcome | null): void {
    const answer = outcome?.kind === 'answered' ? outcome.answer : null;
    const failure = outcome?.kind === 'send_failed' || outcome?.kind === 'query_failed' ? outcome.failure : null;
    const record: OrderRecord = {
      time: Date.now(),
      request,
      clientOrderId: command.clientOrderId,
      paperClientOrderId: command.order.clientOrderId,
      reason: command.order.reason,
      openTime: command.order.decidedAt,
      side: command.side,
      amount: command.amount,
      target: command.target,
      held: answer === null ? this.#held : heldAfter(this.#held, command.side, answer),
      orderId: answer?.orderId ?? null,
      status: outcome === null ? 'sending' : (answer?.status ?? (outcome.kind === 'absent' ? 'not_found' : null)),
      filled: answer?.filled ?? null,
      average: answer?.average ?? null,
      fee: answer?.fee ?? null,
      failure,
    };
    this.#orders.write(record);
    this.records.push(record);
    if (failure !== null) this.#logger?.warn({ clientOrderId: command.clientOrderId, request, failure }, `order ${failure.classification}`);
  }

  #filled(command: Command, answer: ExchangeAnswer): void {
    this.#held = heldAfter(this.#held, command.side, answer);
    if (answer.average !== null) this.#lastPrice = answer.average;
    const { order } = command;
    this.#emit({
      type: 'trade_executed',
      time: Date.now(),
      strategy: this.#strategy,
      symbol: this.#symbol,
      clientOrderId: command.clientOrderId,
      orderId: answer.orderId,
      reason: order.reason,
      openTime: order.decidedAt,
      side: command.side,
      amount: command.amount,
      filled: answer.filled,
      average: answer.average,
      fee: answer.fee,
      held: this.#held,
      target: command.target,
    });
    this.#logger?.info(
      { clientOrderId: command.clientOrderId, reason: order.reason, side: command.side, filled: answer.filled, average: answer.average, held: this.#held, target: command.target },
      'order filled',
    );
  }

  /** Writes an event to `events.jsonl` (fsynced), then hands it to `onEvent`. */
  #emit(event: ExecutionEvent): void {
    this.#events.write(event);
    this.#onEvent?.(event);
  }

  #failed(command: Command, failure: Failure): void {
    const { order } = command;
    this.#emit({
      type: 'trade_failed',
      time: Date.now(),
      strategy: this.#strategy,
      symbol: this.#symbol,
      clientOrderId: command.clientOrderId,
      reason: order.reason,
      openTime: order.decidedAt,
      side: command.side,
      amount: command.amount,
      classification: failure.classification,
      message: failure.message,
      held: this.#held,
      target: command.target,
    });
    this.#logger?.error({ clientOrderId: command.clientOrderId, reason: order.reason, failure, held: this.#held, target: command.target }, 'order failed');
  }
}

/** One exchange order: the paper order it mirrors, the target, its client id, side and amount (base, rounded). */
interface Command {
  readonly order: Order;
  readonly target: number;
  readonly clientOrderId: string;
  readonly side: 'buy' | 'sell';
  readonly amount: number;
}
