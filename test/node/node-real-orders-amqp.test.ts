/**
 * Real orders on the trading node (see node-real-orders-scenario.ts) on RabbitMQ: a real server on loopback
 * (test/support/rabbitmq.ts); the node (connector side) and each worker connect to it, commands and answers go through
 * its durable queues.
 */
import { afterAll, beforeAll } from 'vitest';
import { startRabbitMq, type RabbitMq } from '../support/rabbitmq';
import { describeRealOrdersNode } from './node-real-orders-scenario';

let rabbit: RabbitMq | undefined;
beforeAll(async () => {
  rabbit = await startRabbitMq();
}, 180_000);
afterAll(async () => {
  await rabbit?.dispose();
});

describeRealOrdersNode('RabbitMQ bus', () => ['--bus', rabbit!.url]);
