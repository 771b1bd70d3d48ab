/**
 * vitest globalSetup for the RabbitMQ server shared by the run's test files (test/support/use-rabbitmq.ts): provides a
 * state directory in which the first file needing the server starts it (so a run of files that do not need it never
 * starts one), and stops that server once the run ends.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { stopDetachedRabbitMq, type DetachedRabbitMq } from './rabbitmq';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The directory where the shared test RabbitMQ is recorded once started. */
    rabbitmqState: string;
  }
}

export default function setup(project: TestProject): () => Promise<void> {
  const state = mkdtempSync(join(tmpdir(), 'rabbitmq-shared-'));
  project.provide('rabbitmqState', state);
  return async () => {
    const handle = join(state, 'handle.json');
    if (existsSync(handle)) await stopDetachedRabbitMq(JSON.parse(readFileSync(handle, 'utf8')) as DetachedRabbitMq);
    rmSync(state, { recursive: true, force: true });
  };
}
