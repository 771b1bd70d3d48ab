/**
 * The message bus over RabbitMQ (`--bus amqp://…`), with the `rabbitmq-client` library: one topic exchange
 * (`candlecraft`, durable), a durable queue per consumer bound to its topic patterns, persistent messages, publisher
 * confirms (a publish resolves once the broker has taken responsibility for the message) and manual acknowledgement
 * after the handler (a consumer that dies before acknowledging gets the message redelivered, to itself or to another
 * consumer of the queue). The library reconnects, re-declares and re-subscribes by itself after a broker restart;
 * meanwhile `publish` rejects within {@link PUBLISH_WAIT_MS} (it does not wait for the broker to come back, so a
 * publisher that publishes in order is never held up for long): the caller keeps its own durable copy (the bus is
 * never the only copy of a candle; a worker fills the hole from the store), so nothing is lost.
 *
 * @module
 */
import { Connection, type Consumer, type Publisher } from 'rabbitmq-client';
import type { BusConsumer, BusHandler, ConsumerOptions, MessageBus } from './bus';

/** How long (real ms) a publish waits for a connection to the broker, per attempt (two attempts). */
export const PUBLISH_WAIT_MS = 1_000;

/** Options of {@link AmqpBus.connect}. */
export interface AmqpBusOptions {
  /** The topic exchange's name; default `candlecraft`. */
  readonly exchange?: string;
  /** Called with connection-level errors (lost connection, failed reconnect); they are retried, not thrown. */
  readonly onError?: (error: Error) => void;
}

/** See the module description. */
export class AmqpBus implements MessageBus {
  readonly #connection: Connection;
  readonly #publisher: Publisher;
  readonly #exchange: string;
  readonly #consumers = new Set<Consumer>();

  private constructor(connection: Connection, exchange: string) {
    this.#connection = connection;
    this.#exchange = exchange;
    this.#publisher = connection.createPublisher({
      confirm: true,
      maxAttempts: 2, // a channel closed under a publish: once more on a new one
      exchanges: [{ exchange, type: 'topic', durable: true }],
    });
  }

  /**
   * Connects to the broker at `url` (`amqp://user:password@host:port/vhost`); resolves once connected.
   *
   * @throws Error when the broker cannot be reached within 30 s.
   */
  static async connect(url: string, options: AmqpBusOptions = {}): Promise<AmqpBus> {
    const connection = new Connection({ url, retryLow: 250, retryHigh: 5_000, connectionTimeout: 10_000, acquireTimeout: PUBLISH_WAIT_MS });
    connection.on('error', (error: Error) => options.onError?.(error));
    try {
      await connection.onConnect(30_000);
    } catch (error) {
      await connection.close(); // else the library keeps retrying and holds the process open
      throw error;
    }
    return new AmqpBus(connection, options.exchange ?? 'candlecraft');
  }

  async publish(topic: string, body: unknown): Promise<void> {
    await this.#publisher.send(
      { exchange: this.#exchange, routingKey: topic, durable: true, contentType: 'application/json' },
      body,
    );
  }

  async consume(options: ConsumerOptions, handler: BusHandler): Promise<BusConsumer> {
    const consumer = this.#connection.createConsumer(
      {
        queue: options.queue,
        queueOptions: options.exclusive === true ? { exclusive: true, autoDelete: true } : { durable: true },
        qos: { prefetchCount: Math.max(1, options.prefetch ?? 1) },
        exchanges: [{ exchange: this.#exchange, type: 'topic', durable: true }],
        queueBindings: options.topics.map((routingKey) => ({ exchange: this.#exchange, routingKey })),
        requeue: true,
      },
      async (message) => {
        await handler({ topic: message.routingKey, body: message.body as unknown, redelivered: message.redelivered });
      },
    );
    consumer.on('error', () => undefined); // lost channel: the library re-subscribes
    this.#consumers.add(consumer);
    await new Promise<void>((resolve) => consumer.once('ready', () => resolve()));
    return {
      close: async () => {
        this.#consumers.delete(consumer);
        await consumer.close();
      },
    };
  }

  async declare(options: Omit<ConsumerOptions, 'prefetch'>): Promise<void> {
    await this.#connection.exchangeDeclare({ exchange: this.#exchange, type: 'topic', durable: true });
    await this.#connection.queueDeclare({ queue: options.queue, durable: true });
    for (const routingKey of options.topics) await this.#connection.queueBind({ queue: options.queue, exchange: this.#exchange, routingKey });
  }

  async close(): Promise<void> {
    for (const consumer of this.#consumers) await consumer.close();
    this.#consumers.clear();
    await this.#publisher.close();
    await this.#connection.close();
  }
}
