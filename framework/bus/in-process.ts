/**
 * The in-process message bus: RabbitMQ's topic-exchange semantics without a server, for a node that runs its connector
 * and workers in one process (the default). Queues are durable for the life of the bus (messages published while no
 * consumer is attached wait), bodies are copied through JSON (a consumer never shares an object with the publisher,
 * as over the wire), delivery is at least once with acknowledgement after the handler, and a message whose handler
 * throws goes back to the END of its queue, flagged `redelivered` — as out of order as a RabbitMQ requeue can be, so
 * code that passes here does not rely on delivery order.
 *
 * @module
 */
import type { BusConsumer, BusHandler, BusMessage, ConsumerOptions, MessageBus } from './bus';
import { topicMatches } from './topics';

interface Consumer {
  readonly handler: BusHandler;
  readonly prefetch: number;
  inFlight: number;
  readonly settled: Set<Promise<void>>;
}

interface Queue {
  readonly topics: Set<string>;
  readonly messages: BusMessage[];
  readonly consumers: Consumer[];
  next: number;
}

/** See the module description. */
export class InProcessBus implements MessageBus {
  readonly #queues = new Map<string, Queue>();
  #closed = false;

  async publish(topic: string, body: unknown): Promise<void> {
    if (this.#closed) throw new Error(`bus closed: cannot publish on ${topic}`);
    const json = JSON.stringify(body);
    for (const queue of this.#queues.values()) {
      if ([...queue.topics].some((pattern) => topicMatches(pattern, topic))) {
        queue.messages.push({ topic, body: JSON.parse(json) as unknown, redelivered: false });
        this.#pump(queue);
      }
    }
  }

  async consume(options: ConsumerOptions, handler: BusHandler): Promise<BusConsumer> {
    const queue = this.#queue(options);
    const consumer: Consumer = { handler, prefetch: Math.max(1, options.prefetch ?? 1), inFlight: 0, settled: new Set() };
    queue.consumers.push(consumer);
    this.#pump(queue);
    return {
      close: async () => {
        const at = queue.consumers.indexOf(consumer);
        if (at >= 0) queue.consumers.splice(at, 1);
        if (options.exclusive === true) this.#queues.delete(options.queue);
        await Promise.all(consumer.settled);
      },
    };
  }

  async declare(options: Omit<ConsumerOptions, 'prefetch'>): Promise<void> {
    this.#queue(options);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#queues.values()].flatMap((q) => q.consumers.splice(0));
    await Promise.all(all.flatMap((c) => [...c.settled]));
  }

  /** The queue named in `options`, created if new, bound to its topics. */
  #queue(options: Omit<ConsumerOptions, 'prefetch'>): Queue {
    const queue = this.#queues.get(options.queue) ?? { topics: new Set<string>(), messages: [], consumers: [], next: 0 };
    this.#queues.set(options.queue, queue);
    for (const topic of options.topics) queue.topics.add(topic);
    return queue;
  }

  /** Hands queued messages to consumers with room, round robin. */
  #pump(queue: Queue): void {
    while (queue.messages.length > 0) {
      const consumer = this.#free(queue);
      if (consumer === null) return;
      const message = queue.messages.shift()!;
      consumer.inFlight += 1;
      const done: Promise<void> = Promise.resolve()
        .then(() => consumer.handler(message))
        .then(
          () => undefined,
          () => {
            queue.messages.push({ ...message, redelivered: true });
          },
        )
        .finally(() => {
          consumer.inFlight -= 1;
          consumer.settled.delete(done);
          // A handler that keeps failing must not spin the event loop.
          setImmediate(() => this.#pump(queue));
        });
      consumer.settled.add(done);
    }
  }

  #free(queue: Queue): Consumer | null {
    const n = queue.consumers.length;
    for (let k = 0; k < n; k++) {
      const consumer = queue.consumers[(queue.next + k) % n]!;
      if (consumer.inFlight < consumer.prefetch) {
        queue.next = (queue.next + k + 1) % n;
        return consumer;
      }
    }
    return null;
  }
}
