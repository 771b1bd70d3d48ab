/**
 * The trading node's acceptance scenario (see node-scenario.ts) on RabbitMQ: a real server on loopback
 * (test/support/rabbitmq.ts); the node and each worker connect to it, each worker consuming its own durable queue.
 */
import { afterAll, beforeAll } from 'vitest';
import { startRabbitMq, type RabbitMq } from '../support/rabbitmq';
import { describeNode } from './node-scenario';

let rabbit: RabbitMq | undefined;
beforeAll(async () => {
  rabbit = await startRabbitMq();
}, 180_000);
afterAll(async () => {
  await rabbit?.dispose();
});

describeNode('RabbitMQ bus', () => ['--bus', rabbit!.url]);
