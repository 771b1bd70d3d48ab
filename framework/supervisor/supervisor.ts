/**
 * The supervisor of a node's worker processes: each strategy in its own process (`child_process.fork`, under tsx)
 * with a V8 heap limit, watched by heartbeats, restarted by a {@link RestartPolicy} when it exits, crashes, stops
 * answering (an endless loop blocks its heartbeats: it is SIGKILLed) or runs out of memory, and marked failed with an
 * alert when it keeps failing or its plugin cannot load. One worker's failure never touches the others.
 *
 * Decisions are {@link decideRestart}'s; this class is the process edge (fork, IPC, timers, signals).
 *
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { forkCommand } from '../core/runtime';
import { decideRestart, DEFAULT_RESTART_POLICY, describeEnd, type RestartPolicy, type WorkerEnd } from './restart-policy';
import { HEARTBEAT_ENV, type SupervisorMessage, type WorkerMessage } from './worker-runtime';

/**
 * A worker to run: `module` is the script forked (TypeScript: from the framework's build when this process runs from
 * it, else under tsx; see {@link "core/runtime"!forkCommand | forkCommand}), with `args`.
 */
export interface WorkerSpec {
  readonly id: string;
  readonly module: string;
  readonly args?: readonly string[];
  /** V8 old-space limit in MB (`--max-old-space-size`); default 512. */
  readonly heapMb?: number;
  readonly env?: Readonly<Record<string, string>>;
}

/** What the supervisor reports (to be published as `system.*` events; `worker_failed` is the alert). */
export type SupervisorEvent =
  | { readonly type: 'worker_started'; readonly id: string; readonly pid: number; readonly attempt: number }
  | { readonly type: 'worker_ended'; readonly id: string; readonly end: WorkerEnd; readonly description: string }
  | { readonly type: 'worker_restarting'; readonly id: string; readonly delayMs: number; readonly attempt: number }
  | { readonly type: 'worker_failed'; readonly id: string; readonly reason: string };

/** State of one worker. */
export type WorkerState = 'running' | 'restarting' | 'failed' | 'stopped';

/** One worker's status. */
export interface WorkerStatus {
  readonly id: string;
  readonly state: WorkerState;
  readonly pid: number | null;
  readonly restarts: number;
}

/** Options of a {@link Supervisor}; times in ms. */
export interface SupervisorOptions {
  readonly policy?: RestartPolicy;
  /** How often workers send heartbeats; default 1,000. */
  readonly heartbeatIntervalMs?: number;
  /** Silence after which a running worker is deemed stuck and SIGKILLed; default 10,000. */
  readonly heartbeatTimeoutMs?: number;
  /** Time a starting worker has to send its first heartbeat (loading tsx and the plugin); default 60,000. */
  readonly startupTimeoutMs?: number;
  /**
   * Workers starting at once (forked, first heartbeat not yet received); the others wait for a slot, and their
   * start-up time counts from their fork. Default: the machine's cores (`os.availableParallelism()`): twenty workers
   * forked together on two loaded cores each took over a minute to load, missed the start-up timeout and were all
   * killed and restarted, again and again.
   */
  readonly maxStarting?: number;
  /** Time a worker asked to stop has before it is SIGKILLed; default 30,000. */
  readonly stopTimeoutMs?: number;
  /** Every {@link SupervisorEvent}, as it happens (publish them as `system.*` events; `worker_failed` is the alert). */
  readonly onEvent?: (event: SupervisorEvent) => void;
  /** Messages from workers other than heartbeats (`event`s to publish, …). */
  readonly onMessage?: (id: string, message: WorkerMessage) => void;
  /** Each worker's stderr; default: written to this process's stderr. */
  readonly onStderr?: (id: string, text: string) => void;
  /** Uniform random numbers for the back-off's jitter; default `Math.random`. */
  readonly random?: () => number;
}

interface Worker {
  readonly spec: WorkerSpec;
  state: WorkerState;
  child: ChildProcess | null;
  lastHeartbeat: number | null;
  startedAt: number;
  restarts: number[];
  stderrTail: string;
  loadFailure: string | null;
  killedAsStuck: boolean;
  stopping: boolean;
  timer: NodeJS.Timeout | null;
  exited: Promise<void>;
}

const OOM = /Reached heap limit|JavaScript heap out of memory/;

/** See the module description. */
export class Supervisor {
  readonly #workers = new Map<string, Worker>();
  readonly #options: SupervisorOptions;
  readonly #watchdog: NodeJS.Timeout;
  /** Spawns waiting for a start-up slot (see {@link SupervisorOptions.maxStarting}), in order. */
  #waiting: { readonly worker: Worker; readonly attempt: number }[] = [];

  constructor(options: SupervisorOptions = {}) {
    this.#options = options;
    this.#watchdog = setInterval(() => this.#watch(), Math.min(1_000, (options.heartbeatIntervalMs ?? 1_000) / 2));
    this.#watchdog.unref();
  }

  /**
   * Starts a worker.
   *
   * @throws Error when a worker with this id is already running or restarting.
   */
  start(spec: WorkerSpec): void {
    const existing = this.#workers.get(spec.id);
    if (existing !== undefined && (existing.state === 'running' || existing.state === 'restarting')) {
      throw new Error(`worker ${spec.id} is already ${existing.state}`);
    }
    const worker: Worker = {
      spec,
      state: 'running',
      child: null,
      lastHeartbeat: null,
      startedAt: Date.now(),
      restarts: [],
      stderrTail: '',
      loadFailure: null,
      killedAsStuck: false,
      stopping: false,
      timer: null,
      exited: Promise.resolve(),
    };
    this.#workers.set(spec.id, worker);
    this.#spawn(worker, 0);
  }

  /**
   * Asks a worker to stop (IPC `stop`: finish the current candle, flush, exit) and waits for it to exit; SIGKILLs it
   * after `stopTimeoutMs`. It is not restarted.
   */
  async stop(id: string): Promise<void> {
    const worker = this.#workers.get(id);
    if (worker === undefined) return;
    worker.stopping = true;
    if (worker.timer !== null) clearTimeout(worker.timer);
    this.#waiting = this.#waiting.filter((w) => w.worker !== worker);
    const child = worker.child;
    if (child === null || child.exitCode !== null || child.signalCode !== null) {
      worker.state = worker.state === 'failed' ? 'failed' : 'stopped';
      return;
    }
    child.send({ type: 'stop' } satisfies SupervisorMessage);
    const kill = setTimeout(() => child.kill('SIGKILL'), this.#options.stopTimeoutMs ?? 30_000);
    await worker.exited;
    clearTimeout(kill);
  }

  /** Stops every worker. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#workers.keys()].map((id) => this.stop(id)));
    clearInterval(this.#watchdog);
  }

  /** Sends a command to a running worker; false when it is not running. */
  send(id: string, body: unknown): boolean {
    const child = this.#workers.get(id)?.child;
    if (child === null || child === undefined || child.exitCode !== null || !child.connected) return false;
    child.send({ type: 'command', body } satisfies SupervisorMessage);
    return true;
  }

  /** Sends a message to a running worker (e.g. a bus frame); false when it is not running. */
  post(id: string, message: SupervisorMessage): boolean {
    const child = this.#workers.get(id)?.child;
    if (child === null || child === undefined || child.exitCode !== null || !child.connected) return false;
    child.send(message);
    return true;
  }

  /** Every worker's status, in start order. */
  status(): WorkerStatus[] {
    return [...this.#workers.values()].map((w) => ({
      id: w.spec.id,
      state: w.state,
      pid: w.state === 'running' ? (w.child?.pid ?? null) : null,
      restarts: w.restarts.length,
    }));
  }

  /** Forks the worker now if a start-up slot is free, else queues it (see {@link SupervisorOptions.maxStarting}). */
  #spawn(worker: Worker, attempt: number): void {
    worker.state = 'running';
    worker.child = null;
    this.#waiting.push({ worker, attempt });
    this.#startNext();
  }

  /** Forks waiting workers, in order, while start-up slots are free. */
  #startNext(): void {
    const slots = this.#options.maxStarting ?? availableParallelism();
    const starting = (): number => [...this.#workers.values()].filter((w) => w.child !== null && w.lastHeartbeat === null).length;
    while (this.#waiting.length > 0 && starting() < slots) {
      const { worker, attempt } = this.#waiting.shift()!;
      if (!worker.stopping) this.#fork(worker, attempt);
    }
  }

  #fork(worker: Worker, attempt: number): void {
    const { spec } = worker;
    const command = forkCommand(spec.module, spec.args ?? []);
    const child = fork(command.module, [...command.args], {
      execArgv: [...command.execArgv, `--max-old-space-size=${spec.heapMb ?? 512}`],
      env: { ...process.env, ...spec.env, [HEARTBEAT_ENV]: String(this.#options.heartbeatIntervalMs ?? 1_000) },
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    worker.child = child;
    child.on('error', () => undefined); // a send to a child that just died (EPIPE): its exit is handled below
    worker.state = 'running';
    worker.lastHeartbeat = null;
    worker.startedAt = Date.now();
    worker.stderrTail = '';
    worker.loadFailure = null;
    worker.killedAsStuck = false;
    child.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      worker.stderrTail = (worker.stderrTail + text).slice(-8_000);
      if (this.#options.onStderr !== undefined) this.#options.onStderr(spec.id, text);
      else process.stderr.write(text);
    });
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'heartbeat') {
        const first = worker.lastHeartbeat === null;
        worker.lastHeartbeat = Date.now();
        if (first) this.#startNext();
      }
      else if (message.type === 'load_failed') worker.loadFailure = message.message;
      if (message.type !== 'heartbeat') this.#options.onMessage?.(spec.id, message);
    });
    worker.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.#ended(worker, child, code, signal);
        resolve();
      });
    });
    this.#emit({ type: 'worker_started', id: spec.id, pid: child.pid ?? -1, attempt });
  }

  #ended(worker: Worker, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (worker.child !== child) return;
    worker.child = null;
    this.#startNext();
    const end = this.#endOf(worker, code, signal);
    this.#emit({ type: 'worker_ended', id: worker.spec.id, end, description: describeEnd(end) });
    const now = Date.now();
    const decision = decideRestart(end, worker.restarts, now, (this.#options.random ?? Math.random)(), this.#options.policy ?? DEFAULT_RESTART_POLICY);
    if (decision.action === 'none') {
      worker.state = 'stopped';
    } else if (decision.action === 'fail') {
      worker.state = 'failed';
      this.#emit({ type: 'worker_failed', id: worker.spec.id, reason: decision.reason });
    } else {
      worker.state = 'restarting';
      worker.restarts.push(now);
      this.#emit({ type: 'worker_restarting', id: worker.spec.id, delayMs: decision.delayMs, attempt: decision.attempt });
      worker.timer = setTimeout(() => {
        worker.timer = null;
        if (!worker.stopping) this.#spawn(worker, decision.attempt);
      }, decision.delayMs);
    }
  }

  #endOf(worker: Worker, code: number | null, signal: NodeJS.Signals | null): WorkerEnd {
    if (worker.stopping) return { kind: 'stopped' };
    if (worker.loadFailure !== null) return { kind: 'load_failed', message: worker.loadFailure };
    if (OOM.test(worker.stderrTail)) return { kind: 'out_of_memory' };
    if (worker.killedAsStuck) return { kind: 'unresponsive' };
    if (signal !== null) return { kind: 'crashed', signal };
    return { kind: 'exited', code: code ?? -1 };
  }

  /** Kills running workers whose heartbeats stopped. */
  #watch(): void {
    const now = Date.now();
    for (const worker of this.#workers.values()) {
      const child = worker.child;
      if (worker.state !== 'running' || child === null || worker.stopping || worker.killedAsStuck) continue;
      const stuck =
        worker.lastHeartbeat === null
          ? now - worker.startedAt > (this.#options.startupTimeoutMs ?? 60_000)
          : now - worker.lastHeartbeat > (this.#options.heartbeatTimeoutMs ?? 10_000);
      if (stuck) {
        worker.killedAsStuck = true;
        child.kill('SIGKILL');
      }
    }
  }

  #emit(event: SupervisorEvent): void {
    this.#options.onEvent?.(event);
  }
}
