/**
 * A real RabbitMQ server for tests: Debian's `rabbitmq-server` (installed by scripts/install-rabbitmq.sh) run in the
 * foreground on 127.0.0.1, with its own temporary data directory, node name, AMQP, distribution and epmd ports, so
 * that several can run side by side and none touches the machine's own configuration. It takes ~13 s to accept
 * connections here (up to 40 s under load). `stop()` ends the server and the epmd it started (found by its port: epmd
 * outlives the server otherwise); `restart()` stops it and starts it again on the same port and data (durable queues
 * and persistent messages survive).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';

/** A running test server: `url` is its AMQP URL (user guest, vhost `/`). */
export interface RabbitMq {
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM, then SIGKILL after 20 s) and its epmd. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
  /** Stops it and removes its data directory. */
  dispose(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (asked of the kernel). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts a RabbitMQ server; resolves once it accepts AMQP connections (rejects after `timeoutMs`). */
export async function startRabbitMq(timeoutMs = 120_000): Promise<RabbitMq> {
  if (!existsSync(SERVER)) throw new Error(`${SERVER} not found: run scripts/install-rabbitmq.sh (as root)`);
  const dir = mkdtempSync(join(tmpdir(), 'rabbitmq-'));
  const [port, distPort, epmdPort] = [await freePort(), await freePort(), await freePort()];
  const node = `cc${port}@localhost`;
  writeFileSync(
    join(dir, 'rabbitmq.conf'),
    ['loopback_users = none', `listeners.tcp.default = 127.0.0.1:${port}`, 'log.console = false', 'log.file.level = warning'].join('\n'),
  );
  writeFileSync(join(dir, 'enabled_plugins'), '[].');
  const env = {
    ...process.env,
    HOME: dir,
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
  };
  let server: ChildProcess | null = null;
  let output = '';

  const start = async (): Promise<void> => {
    output = '';
    const child = spawn(SERVER, [], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
    child.stderr!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
    server = child;
    const deadline = Date.now() + timeoutMs;
    while (!(await accepts(port))) {
      if (child.exitCode !== null) throw new Error(`rabbitmq-server exited with ${child.exitCode}:\n${output}`);
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`rabbitmq-server did not accept connections on ${port} within ${timeoutMs} ms:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  const stop = async (): Promise<void> => {
    const child = server;
    server = null;
    if (child !== null && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      killGroup(child.pid!, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child.pid!, 'SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }
    for (const pid of epmdPids(epmdPort)) killPid(pid);
  };

  await start();
  return {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    port,
    stop,
    start,
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    killPid(pid, signal);
  }
}

function killPid(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Pids of the epmd processes started with `ERL_EPMD_PORT=<port>` in their environment. */
function epmdPids(port: number): number[] {
  const wanted = `ERL_EPMD_PORT=${port}`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/comm`, 'utf8').startsWith('epmd')) continue;
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(wanted)) pids.push(Number(entry));
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return pids;
}
