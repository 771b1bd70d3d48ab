/**
 * A RabbitMQ server for a test file as vitest hooks: by default a virtual host of its own on the server shared by the
 * whole run (started by the first file asking for it, stopped by test/support/rabbitmq-global.ts), or with
 * `{ own: true }` a server of the file's own (test/support/rabbitmq.ts), for a file that stops or restarts it.
 *
 * The shared server saves a start per file (~8 s of CPU, 13–40 s of wall time here); its virtual hosts are created at
 * its boot (a `rabbitmqctl add_vhost` costs 2–5 s), so a file's queues and exchanges never meet another's.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, inject } from 'vitest';
import { startRabbitMq, type RabbitMq } from './rabbitmq';

/** The virtual hosts the shared server is created with, one claimed per test file (`cc1` … `cc16`). */
const SHARED_VHOSTS = Array.from({ length: 16 }, (_, i) => `cc${i + 1}`);

/** What a file reads of its server: `url` (user guest, on the file's own virtual host when shared). */
export type TestRabbitMq = Pick<RabbitMq, 'url' | 'port'>;

/**
 * A RabbitMQ server for the test file calling this (at its top level), ready before its tests. Returns the server, to
 * read once the tests run (`rabbit().url`); with `own`, the file's own server (with `stop()`/`start()`), disposed after
 * its tests.
 */
export function useRabbitMq(options: { own: true }): () => RabbitMq;
export function useRabbitMq(options?: { own?: false }): () => TestRabbitMq;
export function useRabbitMq(options: { own?: boolean } = {}): () => TestRabbitMq {
  let rabbit: TestRabbitMq | undefined;
  let own: RabbitMq | undefined;
  beforeAll(async () => {
    if (options.own === true) rabbit = own = await startRabbitMq();
    else rabbit = await sharedVhost();
  }, 180_000);
  afterAll(async () => {
    await own?.dispose();
  });
  return () => {
    if (rabbit === undefined) throw new Error('the test RabbitMQ is not running (useRabbitMq is read before its tests run)');
    return rabbit;
  };
}

/** The shared server's record in the run's state directory (written once it accepts connections). */
interface SharedRecord {
  readonly url: string;
  readonly port: number;
  readonly error?: string;
}

/**
 * A virtual host of its own on the run's shared server: the first caller of the run (the one creating `starting/` in
 * the state directory) starts the server and records it; the others wait for the record.
 */
async function sharedVhost(): Promise<TestRabbitMq> {
  const state = inject('rabbitmqState');
  const record = join(state, 'server.json');
  let starter = true;
  try {
    mkdirSync(join(state, 'starting'));
  } catch {
    starter = false;
  }
  if (starter) {
    let shared: SharedRecord;
    try {
      const server = await startRabbitMq({ vhosts: SHARED_VHOSTS, detached: true });
      writeFileSync(join(state, 'handle.json'), JSON.stringify(server.handle));
      shared = { url: server.url, port: server.port };
    } catch (error) {
      shared = { url: '', port: 0, error: (error as Error).message };
    }
    writeFileSync(`${record}.tmp`, JSON.stringify(shared));
    renameSync(`${record}.tmp`, record);
  }
  while (!existsSync(record)) await new Promise((r) => setTimeout(r, 100));
  const shared = JSON.parse(readFileSync(record, 'utf8')) as SharedRecord;
  if (shared.error !== undefined) throw new Error(`the shared test RabbitMQ did not start: ${shared.error}`);
  const vhost = SHARED_VHOSTS.find((name) => {
    try {
      mkdirSync(join(state, `vhost-${name}`));
      return true;
    } catch {
      return false;
    }
  });
  if (vhost === undefined) throw new Error(`all ${SHARED_VHOSTS.length} virtual hosts of the shared test RabbitMQ are taken`);
  return { url: `${shared.url}/${vhost}`, port: shared.port };
}
