/**
 * The in-process bus reached from a child process over Node's IPC channel: the trading node keeps one
 * {@link "bus/in-process"!InProcessBus | InProcessBus} in its own process and each worker (a forked child) publishes
 * and consumes through it with an {@link IpcBusClient}; the node relays with an {@link IpcBusHost}. Nothing to install
 * or run, and the same {@link MessageBus} interface as RabbitMQ.
 *
 * The queues live in the node: a worker's queue keeps its messages while the worker is down (restarting), and a
 * delivery the worker has not acknowledged when it dies goes back to the queue (at its end: out of order, like a
 * RabbitMQ requeue). Acknowledgement is the worker's: a delivery is acknowledged once the worker's handler resolved.
 *
 * @module
 */
import type { BusConsumer, BusHandler, BusMessage, ConsumerOptions, MessageBus } from './bus';

/** One frame of the IPC bus protocol (JSON over the IPC channel). */
export type IpcBusFrame =
  | { readonly op: 'publish'; readonly topic: string; readonly body: unknown }
  | { readonly op: 'consume'; readonly consumer: number; readonly options: ConsumerOptions }
  | { readonly op: 'cancel'; readonly consumer: number }
  | { readonly op: 'declare'; readonly options: Omit<ConsumerOptions, 'prefetch'> }
  | { readonly op: 'deliver'; readonly consumer: number; readonly tag: number; readonly message: BusMessage }
  | { readonly op: 'ack'; readonly tag: number; readonly ok: boolean };

/** A worker's end of the IPC channel: sends a frame, and subscribes to the frames the node sends. */
export interface IpcChannel {
  /** Sends a frame to the node. */
  send(frame: IpcBusFrame): void;
  /** Calls `listener` with every frame the node sends. */
  onFrame(listener: (frame: IpcBusFrame) => void): void;
}

/** The worker side: see the module description. `publish` resolves once the frame is handed to the IPC channel. */
export class IpcBusClient implements MessageBus {
  readonly #channel: IpcChannel;
  readonly #handlers = new Map<number, BusHandler>();
  readonly #inFlight = new Set<Promise<void>>();
  #next = 0;

  constructor(channel: IpcChannel) {
    this.#channel = channel;
    channel.onFrame((frame) => {
      if (frame.op !== 'deliver') return;
      const handler = this.#handlers.get(frame.consumer);
      if (handler === undefined) {
        channel.send({ op: 'ack', tag: frame.tag, ok: false });
        return;
      }
      const done = Promise.resolve()
        .then(() => handler(frame.message))
        .then(
          () => channel.send({ op: 'ack', tag: frame.tag, ok: true }),
          () => channel.send({ op: 'ack', tag: frame.tag, ok: false }),
        )
        .finally(() => this.#inFlight.delete(done));
      this.#inFlight.add(done);
    });
  }

  async publish(topic: string, body: unknown): Promise<void> {
    this.#channel.send({ op: 'publish', topic, body });
  }

  async consume(options: ConsumerOptions, handler: BusHandler): Promise<BusConsumer> {
    const consumer = ++this.#next;
    this.#handlers.set(consumer, handler);
    this.#channel.send({ op: 'consume', consumer, options: { queue: options.queue, topics: [...options.topics], ...(options.prefetch !== undefined && { prefetch: options.prefetch }), ...(options.exclusive === true && { exclusive: true }) } });
    return {
      close: async () => {
        this.#handlers.delete(consumer);
        this.#channel.send({ op: 'cancel', consumer });
        await Promise.all(this.#inFlight);
      },
    };
  }

  /** Asks the node to declare the queue (its bus keeps what is published to it until a consumer comes). */
  async declare(options: Omit<ConsumerOptions, 'prefetch'>): Promise<void> {
    this.#channel.send({ op: 'declare', options: { queue: options.queue, topics: [...options.topics] } });
  }

  async close(): Promise<void> {
    for (const consumer of [...this.#handlers.keys()]) this.#channel.send({ op: 'cancel', consumer });
    this.#handlers.clear();
    await Promise.all(this.#inFlight);
  }
}

interface Pending {
  readonly worker: string;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * The node side: relays each worker's frames to `bus` and the bus's deliveries back to the worker. `send` returns
 * false when the worker's channel is gone (the delivery is then requeued).
 */
export class IpcBusHost {
  readonly #bus: MessageBus;
  readonly #consumers = new Map<string, Map<number, Promise<BusConsumer>>>();
  readonly #pending = new Map<number, Pending>();
  #tags = 0;

  constructor(bus: MessageBus) {
    this.#bus = bus;
  }

  /** Handles a frame from worker `worker`; `send` sends a frame back to it. */
  receive(worker: string, frame: IpcBusFrame, send: (frame: IpcBusFrame) => boolean): void {
    switch (frame.op) {
      case 'publish':
        void this.#bus.publish(frame.topic, frame.body).catch(() => undefined); // a closed bus: the node is stopping
        return;
      case 'consume': {
        const consumers = this.#consumers.get(worker) ?? new Map<number, Promise<BusConsumer>>();
        this.#consumers.set(worker, consumers);
        const id = frame.consumer;
        consumers.set(
          id,
          this.#bus.consume(frame.options, (message) => this.#deliver(worker, id, message, send)),
        );
        return;
      }
      case 'declare':
        void this.#bus.declare(frame.options).catch(() => undefined); // a closed bus: the node is stopping
        return;
      case 'cancel': {
        const consumer = this.#consumers.get(worker)?.get(frame.consumer);
        this.#consumers.get(worker)?.delete(frame.consumer);
        void consumer?.then((c) => c.close());
        return;
      }
      case 'ack': {
        const pending = this.#pending.get(frame.tag);
        this.#pending.delete(frame.tag);
        if (frame.ok) pending?.resolve();
        else pending?.reject(new Error('the worker failed to handle the message'));
        return;
      }
      case 'deliver':
        return; // never sent by a worker
    }
  }

  /** The worker's process ended: its unacknowledged deliveries go back to their queues and its consumers stop. */
  async detach(worker: string): Promise<void> {
    for (const [tag, pending] of this.#pending) {
      if (pending.worker !== worker) continue;
      this.#pending.delete(tag);
      pending.reject(new Error(`worker ${worker} ended before acknowledging`));
    }
    const consumers = [...(this.#consumers.get(worker)?.values() ?? [])];
    this.#consumers.delete(worker);
    await Promise.all(consumers.map(async (c) => (await c).close()));
  }

  #deliver(worker: string, consumer: number, message: BusMessage, send: (frame: IpcBusFrame) => boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const tag = ++this.#tags;
      this.#pending.set(tag, { worker, resolve, reject });
      if (!send({ op: 'deliver', consumer, tag, message })) {
        this.#pending.delete(tag);
        reject(new Error(`worker ${worker} is not connected`));
      }
    });
  }
}
