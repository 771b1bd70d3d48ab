/**
 * The trading node's acceptance scenario (see node-scenario.ts) on RabbitMQ: a real server on loopback
 * (test/support/rabbitmq.ts); the node and each worker connect to it, each worker consuming its own durable queue.
 */
import { useRabbitMq } from '../support/use-rabbitmq';
import { describeNode } from './node-scenario';

const rabbit = useRabbitMq();

describeNode('RabbitMQ bus', () => ['--bus', rabbit().url]);
