/**
 * Real orders on the trading node (see node-real-orders-scenario.ts) on RabbitMQ: a real server on loopback
 * (test/support/rabbitmq.ts); the node (connector side) and each worker connect to it, commands and answers go through
 * its durable queues.
 */
import { useRabbitMq } from '../support/use-rabbitmq';
import { describeRealOrdersNode } from './node-real-orders-scenario';

const rabbit = useRabbitMq();

describeRealOrdersNode('RabbitMQ bus', () => ['--bus', rabbit().url]);
