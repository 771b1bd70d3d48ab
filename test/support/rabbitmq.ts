/**
 * A real RabbitMQ server for tests: Debian's `rabbitmq-server` (installed by scripts/install-rabbitmq.sh) run in the
 * foreground on 127.0.0.1, with its own temporary data directory, node name, AMQP, distribution and epmd ports, so
 * that several can run side by side and none touches the machine's own configuration. It takes ~13 s to accept
 * connections here (up to 40 s under load). `stop()` ends the server and the epmd it started (found by its port: epmd
 * outlives the server otherwise); `restart()` stops it and starts it again on the same port and data (durable queues
 * and persistent messages survive).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';

/** A running test server: `url` is its AMQP URL (user guest, vhost `/`). */
export interface RabbitMq {
  readonly url: string;
  readonly port: number;
  /** Where a detached server is found by another process, to stop it with {@link stopDetachedRabbitMq}. */
  readonly handle: DetachedRabbitMq;
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

/** What stops a server from another process than the one that started it: its process group, epmd port and data. */
export interface DetachedRabbitMq {
  readonly pid: number;
  readonly epmdPort: number;
  readonly dir: string;
}

/** How to start a server. */
export interface RabbitMqOptions {
  /** Rejects when the server does not accept connections within this (ms). */
  readonly timeoutMs?: number;
  /** Virtual hosts created at boot (from a definitions file, with user guest's permissions on each), besides `/`. */
  readonly vhosts?: readonly string[];
  /**
   * Let the server outlive the process starting it (it is not waited for; stop it with {@link stopDetachedRabbitMq}).
   */
  readonly detached?: boolean;
}

/** Starts a RabbitMQ server; resolves once it accepts AMQP connections (rejects after `timeoutMs`). */
export async function startRabbitMq(options: RabbitMqOptions = {}): Promise<RabbitMq> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  if (!existsSync(SERVER)) throw new Error(`${SERVER} not found: run scripts/install-rabbitmq.sh (as root)`);
  const dir = mkdtempSync(join(tmpdir(), 'rabbitmq-'));
  const [port, distPort, epmdPort] = [await freePort(), await freePort(), await freePort()];
  const node = `cc${port}@localhost`;
  const conf = ['loopback_users = none', `listeners.tcp.default = 127.0.0.1:${port}`, 'log.console = false', 'log.file.level = warning'];
  if (options.vhosts !== undefined && options.vhosts.length > 0) {
    writeFileSync(join(dir, 'definitions.json'), JSON.stringify(definitions(options.vhosts)));
    conf.push(`load_definitions = ${join(dir, 'definitions.json')}`);
  }
  writeFileSync(join(dir, 'rabbitmq.conf'), conf.join('\n'));
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
    // No busy-waiting schedulers (Erlang's `+sbwt`): idle, the server burnt 4 s of CPU a minute here,
    // ~40 s over a 10-minute suite; with none, under 1 s a minute (measured with ps, 60 s idle).
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '+sbwt none +sbwtdcpu none +sbwtdio none',
  };
  let server: ChildProcess | null = null;
  // The server's output goes to a file (a pipe would break when a detached server's starter exits).
  const outFile = join(dir, 'server.out');
  const output = (): string => (existsSync(outFile) ? readFileSync(outFile, 'utf8').slice(-4000) : '');

  const start = async (): Promise<void> => {
    const out = openSync(outFile, 'w');
    const child = spawn(SERVER, [], { env, stdio: ['ignore', out, out], detached: true });
    closeSync(out);
    if (options.detached === true) child.unref();
    server = child;
    const deadline = Date.now() + timeoutMs;
    while (!(await accepts(port))) {
      if (child.exitCode !== null) throw new Error(`rabbitmq-server exited with ${child.exitCode}:\n${output()}`);
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`rabbitmq-server did not accept connections on ${port} within ${timeoutMs} ms:\n${output()}`);
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
    handle: { pid: server!.pid!, epmdPort, dir },
    stop,
    start,
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Stops a server started with `detached` by another process (SIGTERM to its group, SIGKILL after 20 s), its epmd,
 * and removes its data directory.
 */
export async function stopDetachedRabbitMq(server: DetachedRabbitMq): Promise<void> {
  killGroup(server.pid, 'SIGTERM');
  const deadline = Date.now() + 20_000;
  while (alive(server.pid)) {
    if (Date.now() > deadline) {
      killGroup(server.pid, 'SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const pid of epmdPids(server.epmdPort)) killPid(pid);
  rmSync(server.dir, { recursive: true, force: true });
}

/** Whether `pid` runs (a zombie, ended but not yet reaped by its parent, does not). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** A definitions file (RabbitMQ's export format) with user guest (password guest) and `vhosts` besides `/`. */
function definitions(vhosts: readonly string[]): object {
  // rabbit_password_hashing_sha256: base64(salt ++ sha256(salt ++ password)), with a 4-byte salt.
  const salt = randomBytes(4);
  const hash = Buffer.concat([salt, createHash('sha256').update(Buffer.concat([salt, Buffer.from('guest')])).digest()]);
  const all = ['/', ...vhosts];
  return {
    users: [{ name: 'guest', password_hash: hash.toString('base64'), hashing_algorithm: 'rabbit_password_hashing_sha256', tags: ['administrator'] }],
    vhosts: all.map((name) => ({ name })),
    permissions: all.map((vhost) => ({ user: 'guest', vhost, configure: '.*', write: '.*', read: '.*' })),
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
