import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { AmqpBus } from '../../framework/bus/amqp';
import type { BusMessage, MessageBus } from '../../framework/bus/bus';
import { InProcessBus } from '../../framework/bus/in-process';
import { CandleSequencer } from '../../framework/bus/sequencer';
import { marketDataTopic, TOPICS } from '../../framework/bus/topics';
import type { Candle } from '../../framework/core/candle';
import { mulberry32 } from '../../framework/core/rng';
import { loadJsonCandles } from '../support/shared-data';
import { useRabbitMq } from '../support/use-rabbitmq';

/**
 * The message bus's contract, on both transports: the in-process bus and a real RabbitMQ server (Debian's
 * rabbitmq-server on loopback, a server of this file's own, as one test restarts it), with real Binance candles as the messages.
 */
const candles: Candle[] = loadJsonCandles('BTC_USDT-1h.json').slice(0, 300);
const HOUR = 3_600_000;

// Its own server: a test below restarts it.
const rabbit = useRabbitMq({ own: true });

let queues = 0;
/** A queue name of its own per test (RabbitMQ's queues outlive a test). */
const queueName = (what: string): string => `test-${what}-${process.pid}-${queues++}`;

/** Resolves once `predicate` holds (checked every 20 ms), or rejects after 60 s. */
async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const transports: [string, () => Promise<MessageBus>][] = [
  ['in-process', async () => new InProcessBus()],
  ['RabbitMQ', async () => AmqpBus.connect(rabbit().url)],
];

describe.each(transports)('the %s bus', (_name, connect) => {
  it('routes each message to the queues whose topic patterns match it (AMQP topic rules)', async () => {
    const bus = await connect();
    const got = new Map<string, string[]>();
    const listen = async (name: string, topics: string[]): Promise<void> => {
      got.set(name, []);
      await bus.consume({ queue: queueName(name), topics }, (m) => void got.get(name)!.push(m.topic));
    };
    await listen('btc-15m', ['market_data.binance.btc_usdt.15m']);
    await listen('all-15m', ['market_data.binance.*.15m']);
    await listen('market', ['market_data.#']);
    await listen('trades', [TOPICS.tradeExecuted, TOPICS.tradeFailed]);
    const topics = [
      marketDataTopic({ exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' }),
      marketDataTopic({ exchange: 'binance', symbol: 'ETH/USDT', timeframe: '15m' }),
      marketDataTopic({ exchange: 'binance', symbol: 'ETH/USDT', timeframe: '1h' }),
      TOPICS.tradeExecuted,
      TOPICS.positionMismatch,
    ];
    expect(topics.slice(0, 3)).toEqual(['market_data.binance.btc_usdt.15m', 'market_data.binance.eth_usdt.15m', 'market_data.binance.eth_usdt.1h']);
    for (const topic of topics) await bus.publish(topic, { topic });
    const expected = {
      'btc-15m': [topics[0]],
      'all-15m': [topics[0], topics[1]],
      market: topics.slice(0, 3),
      trades: [TOPICS.tradeExecuted],
    };
    await until(() => Object.entries(expected).every(([k, v]) => got.get(k)!.length >= v.length), 'deliveries');
    await new Promise((r) => setTimeout(r, 200)); // nothing more arrives
    expect(Object.fromEntries(got)).toEqual(expected);
    await bus.close();
  });

  it('keeps messages in a durable queue while no consumer is attached, and acknowledges only after the handler', async () => {
    const bus = await connect();
    const queue = queueName('durable');
    const topic = marketDataTopic({ exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' });
    const first = await bus.consume({ queue, topics: [topic] }, () => undefined);
    await first.close();
    for (const c of candles.slice(0, 5)) await bus.publish(topic, c);
    const seen: BusMessage[] = [];
    let failed = false;
    await bus.consume({ queue, topics: [topic] }, (m) => {
      seen.push(m);
      // The handler of the third candle fails once: that delivery is not acknowledged and comes again.
      if ((m.body as Candle).openTime === candles[2]!.openTime && !failed) {
        failed = true;
        throw new Error('journal write failed');
      }
    });
    await until(() => seen.length >= 6, 'six deliveries');
    const third = seen.filter((m) => (m.body as Candle).openTime === candles[2]!.openTime);
    expect(third.map((m) => m.redelivered)).toEqual([false, true]);
    expect(new Set(seen.map((m) => (m.body as Candle).openTime))).toEqual(new Set(candles.slice(0, 5).map((c) => c.openTime)));
    expect(seen.map((m) => m.body)).toContainEqual(candles[4]);
    await bus.close();
  });

  it('keeps what is published after declare() in the queue until its first consumer comes; undeclared topics are dropped', async () => {
    const bus = await connect();
    const queue = queueName('declared');
    const topic = marketDataTopic({ exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' });
    await bus.publish(topic, candles[0]); // no queue bound yet: dropped, as RabbitMQ drops an unroutable message
    await bus.declare({ queue, topics: [topic] });
    for (const c of candles.slice(1, 4)) await bus.publish(topic, c);
    const seen: Candle[] = [];
    await bus.consume({ queue, topics: [topic] }, (m) => void seen.push(m.body as Candle));
    await until(() => seen.length >= 3, 'three deliveries');
    await new Promise((r) => setTimeout(r, 200)); // nothing more arrives
    expect(seen.map((c) => c.openTime).sort((a, b) => a - b)).toEqual(candles.slice(1, 4).map((c) => c.openTime));
    await bus.close();
  });

  it('gives a worker the exact candle sequence through redeliveries and reordering, with the sequencer', async () => {
    const bus = await connect();
    const queue = queueName('sequence');
    const topic = marketDataTopic({ exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' });
    const random = mulberry32(7);
    const arrived: number[] = [];
    const acted: Candle[] = [];
    const sequencer = new CandleSequencer(HOUR, null);
    await bus.consume({ queue, topics: [topic], prefetch: 10 }, (m) => {
      const candle = m.body as Candle;
      arrived.push(candle.openTime);
      // One delivery in ten fails before the journal write: it is redelivered later, out of order.
      if (candle.openTime !== candles[0]!.openTime && random() < 0.1) throw new Error('handler failed');
      acted.push(...sequencer.offer(candle).ready);
    });
    for (const c of candles) await bus.publish(topic, c);
    // A connector restart republishes the last 20 candles: duplicates.
    for (const c of candles.slice(-20)) await bus.publish(topic, c);
    await until(() => acted.length === candles.length && sequencer.duplicates >= 20, 'every candle acted on');
    expect(acted).toEqual(candles);
    expect(sequencer.buffered).toBe(0);
    // Delivery order was not candle order (the failed deliveries came back late): the sequencer, not the bus, ordered.
    expect(arrived.some((t, i) => i > 0 && t < arrived[i - 1]!)).toBe(true);
    await bus.close();
  });
});

describe('the RabbitMQ bus', () => {
  it('redelivers a message whose consumer process was SIGKILLed before acknowledging it', async () => {
    const queue = queueName('killed');
    const topic = TOPICS.executeTrade;
    const child = spawn(process.execPath, ['bin/run.mjs', 'test/support/bus-consumer.ts', rabbit().url, queue, topic], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await until(() => out.includes('ready'), 'the consumer process');
    const bus = await AmqpBus.connect(rabbit().url);
    const command = { clientOrderId: 'cc1234abcd-qx3k00-0', side: 'buy', quantity: 0.01 };
    await bus.publish(topic, command);
    await until(() => out.includes('got'), 'the child to receive the command');
    expect(out).toContain(`got ${JSON.stringify(command)}`);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    const again: BusMessage[] = [];
    await bus.consume({ queue, topics: [topic] }, (m) => void again.push(m));
    await until(() => again.length === 1, 'the redelivery');
    expect(again[0]).toEqual({ topic, body: command, redelivered: true });
    await bus.close();
  });

  it('keeps persistent messages across a broker restart, and the same connection recovers by itself', async () => {
    const bus = await AmqpBus.connect(rabbit().url, { onError: () => undefined });
    const queue = queueName('restart');
    const topic = marketDataTopic({ exchange: 'binance', symbol: 'ETH/USDT', timeframe: '1h' });
    const got: Candle[] = [];
    const consumer = await bus.consume({ queue, topics: [topic] }, (m) => void got.push(m.body as Candle));
    await consumer.close();
    for (const c of candles.slice(0, 10)) await bus.publish(topic, c);
    await rabbit().stop();
    await rabbit().start();
    await bus.consume({ queue, topics: [topic] }, (m) => void got.push(m.body as Candle));
    await bus.publish(topic, candles[10]);
    await until(() => got.length === 11, 'eleven candles');
    expect(got).toEqual(candles.slice(0, 11));
    await bus.close();
  }, 240_000);
});
