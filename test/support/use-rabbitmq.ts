/** A test file's own RabbitMQ server (test/support/rabbitmq.ts) as vitest hooks. */
import { afterAll, beforeAll } from 'vitest';
import { startRabbitMq, type RabbitMq } from './rabbitmq';

/**
 * A RabbitMQ server for the test file calling this (at its top level): started before its tests, disposed after them.
 * Returns the server, to read once the tests run (`rabbit().url`).
 */
export function useRabbitMq(): () => RabbitMq {
  let rabbit: RabbitMq | undefined;
  beforeAll(async () => {
    rabbit = await startRabbitMq();
  }, 180_000);
  afterAll(async () => {
    await rabbit?.dispose();
  });
  return () => {
    if (rabbit === undefined) throw new Error('the test RabbitMQ is not running (useRabbitMq is read before its tests run)');
    return rabbit;
  };
}
