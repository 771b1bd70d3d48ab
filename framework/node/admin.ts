/**
 * The trading node's admin commands and its local control socket. `npm run node -- list | status | stop <id> |
 * start <id> | restart <id>` connect to the running node's Unix socket (default `<runs>/node.sock`, `--control` to name another),
 * send one request as a line of JSON and read one answer line: the node's acknowledgement, with the result. The socket
 * is a file, so only users who may open it (its directory's permissions) can send commands; nothing listens on the
 * network.
 *
 * Every command is idempotent: stopping a stopped strategy, or starting a running one, answers `ok` and says so.
 *
 * @module
 */
import { createConnection, createServer, type Server } from 'node:net';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { FrameworkError, messageOf } from '../core/errors';
import type { PortfolioStatus } from '../portfolio/portfolio';
import type { WorkerState } from '../supervisor/supervisor';

/** An admin request. */
export type AdminRequest =
  | { readonly command: 'list' }
  | { readonly command: 'status' }
  | { readonly command: 'stop' | 'start' | 'restart'; readonly id: string };

/** One strategy's line of {@link NodeStatus}: its worker's state and run folder (null before its first candle). */
export interface WorkerLine {
  readonly id: string;
  readonly file: string;
  readonly state: WorkerState | 'disabled';
  readonly pid: number | null;
  readonly restarts: number;
}

/**
 * One configured strategy, as `list` answers it: its configuration (parameters as overridden in the node
 * configuration, allocation in quote currency or as a fraction of the account) and its worker's state.
 */
export interface StrategyLine {
  readonly id: string;
  readonly file: string;
  readonly params: Readonly<Record<string, number | string | boolean>>;
  readonly mode: 'paper' | 'real';
  readonly allocation: { readonly quote: number } | { readonly fraction: number };
  readonly enabled: boolean;
  readonly state: WorkerState | 'disabled';
}

/** The node's state: its workers and the portfolio aggregated from their snapshots. */
export interface NodeStatus {
  readonly workers: readonly WorkerLine[];
  readonly portfolio: PortfolioStatus;
}

/**
 * The acknowledgement of a request: whether it succeeded, one line saying what was done, and the status after it
 * (`strategies` instead for `list`).
 */
export interface AdminReply {
  readonly ok: boolean;
  readonly message: string;
  readonly status?: NodeStatus;
  readonly strategies?: readonly StrategyLine[];
}

/** Runs one admin request in the node. */
export type AdminHandler = (request: AdminRequest) => Promise<AdminReply>;

/**
 * Serves `handler` on the Unix socket `path`; a socket file left by a node that was killed is replaced.
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} when another node answers on `path`.
 */
export async function serveAdmin(path: string, handler: AdminHandler): Promise<Server> {
  if (existsSync(path)) {
    const alive = await sendAdmin(path, { command: 'status' }).then(
      () => true,
      () => false,
    );
    if (alive) throw new FrameworkError(`${path}: another node is running with this control socket; stop it or pass --control <path>`);
    rmSync(path, { force: true });
  }
  mkdirSync(dirname(path), { recursive: true });
  const server = createServer((socket) => {
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('error', () => undefined);
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const end = buffer.indexOf('\n');
      if (end < 0) return;
      const line = buffer.slice(0, end);
      buffer = '';
      void (async () => {
        let reply: AdminReply;
        try {
          reply = await handler(parseRequest(line));
        } catch (error) {
          reply = { ok: false, message: messageOf(error) };
        }
        socket.end(`${JSON.stringify(reply)}\n`);
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return server;
}

/**
 * Sends one request to the node listening on `path` and returns its reply.
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} when no node answers there.
 */
export function sendAdmin(path: string, request: AdminRequest, timeoutMs = 120_000): Promise<AdminReply> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let answer = '';
    const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(new FrameworkError(`no node answers on ${path}: ${messageOf(error)} (is npm run node running with this --runs or --control?)`));
    });
    socket.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(answer) as AdminReply);
      } catch {
        reject(new FrameworkError(`${path}: the node's answer is not JSON: ${answer.slice(0, 200)}`));
      }
    });
  });
}

function parseRequest(line: string): AdminRequest {
  return parseAdminRequest(JSON.parse(line));
}

/**
 * An admin request from its JSON value (a control-socket line, a bus message).
 *
 * @throws Error naming the request and what is allowed when it is none.
 */
export function parseAdminRequest(value: unknown): AdminRequest {
  const v = (typeof value === 'object' && value !== null ? value : {}) as Partial<{ command: unknown; id: unknown }>;
  if (v.command === 'status') return { command: 'status' };
  if (v.command === 'list') return { command: 'list' };
  if ((v.command === 'stop' || v.command === 'start' || v.command === 'restart') && typeof v.id === 'string') {
    return { command: v.command, id: v.id };
  }
  throw new Error(`unknown request ${JSON.stringify(value).slice(0, 200)}: expected list, status, or stop, start or restart with an id`);
}
