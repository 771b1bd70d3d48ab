/**
 * The message bus: one interface, two transports — in-process (the default, no server to run:
 * {@link "bus/in-process"!InProcessBus | InProcessBus}) and RabbitMQ (`--bus amqp://…`:
 * {@link "bus/amqp"!AmqpBus | AmqpBus}), so that a connector and its workers can run in one process or on several
 * machines with the same code.
 *
 * Delivery is at least once: a message is acknowledged only after its handler's promise resolved (e.g. after the
 * worker's journal write); a handler that throws, or a consumer that dies first, gets it again later, possibly out of
 * order (RabbitMQ requeues are not in place: one arrived 84 places late in a measurement here). Consumers must
 * therefore be idempotent and order by content (a candle's open time), never by arrival.
 *
 * @module
 */

/**
 * One delivered message: its `topic` (routing key), its `body` (any JSON value, as published) and `redelivered`
 * (true when the bus delivered it before and it was not acknowledged).
 */
export interface BusMessage {
  readonly topic: string;
  readonly body: unknown;
  readonly redelivered: boolean;
}

/** Handles one message; the message is acknowledged when the returned promise resolves, redelivered when it rejects. */
export type BusHandler = (message: BusMessage) => Promise<void> | void;

/**
 * A consumer's queue: its `queue` name (durable: messages published while no consumer is attached wait in it), the
 * topic patterns bound to it (`market_data.binance.*.15m`, `events.#`: AMQP topic rules), and how many unacknowledged
 * messages it may hold at once (`prefetch`, default 1: one at a time, in queue order). An `exclusive` queue is this
 * consumer's alone and is deleted when it closes (AMQP's exclusive, auto-delete queue: e.g. where one admin reply comes).
 */
export interface ConsumerOptions {
  readonly queue: string;
  readonly topics: readonly string[];
  readonly prefetch?: number;
  readonly exclusive?: boolean;
}

/** A running consumer. */
export interface BusConsumer {
  /** Stops consuming; waits for the handlers under way. The queue and its messages stay. */
  close(): Promise<void>;
}

/** See the module description. */
export interface MessageBus {
  /**
   * Publishes a JSON-serialisable `body` on `topic`; resolves once the bus holds it (RabbitMQ: the publisher
   * confirm of a persistent message; in-process: queued). A message no queue is bound to is dropped.
   */
  publish(topic: string, body: unknown): Promise<void>;
  /** Declares the queue and its bindings and consumes it with `handler`. */
  consume(options: ConsumerOptions, handler: BusHandler): Promise<BusConsumer>;
  /**
   * Declares the queue and its bindings without consuming it: what is published on its topics from now on waits in
   * it for a consumer (a publisher calls it before publishing work that consumers may not have subscribed to yet).
   */
  declare(options: Omit<ConsumerOptions, 'prefetch'>): Promise<void>;
  /** Closes every consumer and the connection. */
  close(): Promise<void>;
}
