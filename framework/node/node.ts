/**
 * The trading node (`npm run node -- <config>`): the strategies of a {@link NodeConfig}, each in its own worker
 * process under a {@link "supervisor/supervisor"!Supervisor | Supervisor}, fed by one connector side
 * ({@link ConnectorSide}: one feed per unique subscription, the write-ahead log once, publication once durable) over the
 * message bus — in-process by default (the workers reach it over IPC), RabbitMQ with an amqp:// URL. The node
 * aggregates the workers' `system.snapshot`s in a {@link "portfolio/portfolio"!Portfolio | Portfolio} and answers
 * admin commands on its control socket (see `node/admin.ts`) and on the bus (`system.admin.request`, see
 * `node/admin-bus.ts`).
 *
 * Strategies in `mode: real` trade on the account through the same connector: their workers send
 * `commands.execute_trade`, which a {@link TradeDesk} executes (capital allocation, idempotency, reconciliation: see
 * `node/trade-commands.ts`).
 *
 * Each strategy's run folders are under `<runs>/<id>/`, so two instances of one file are two runs; a worker killed
 * mid-run is restarted by the policy and continues its run folder. The node stops on `signal`, at the simulator's data
 * end (each worker first acts on the last candle), or once every worker has finished (its candle limit) or failed.
 * With RabbitMQ, role `workers` runs all of this but the market data, served by a connector process on the same bus
 * (`node/connector-node.ts`).
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Server } from 'node:net';
import type { BrokerConfig } from '../broker/broker-config';
import { AmqpBus } from '../bus/amqp';
import type { MessageBus } from '../bus/bus';
import { InProcessBus } from '../bus/in-process';
import { IpcBusHost } from '../bus/ipc';
import { marketDataTopic, systemTopic } from '../bus/topics';
import type { ApiCredentials } from '../feeds/live/exchange';
import type { Logger, LogLevel } from '../core/logger';
import { Portfolio, type StrategySnapshot } from '../portfolio/portfolio';
import { Supervisor, type SupervisorOptions, type WorkerSpec } from '../supervisor/supervisor';
import { serveAdmin, type AdminHandler, type AdminReply, type NodeStatus, type StrategyLine } from './admin';
import { serveAdminOnBus } from './admin-bus';
import { DEFAULT_ACCOUNT_CASH, strategyCash, type NodeConfig, type NodeStrategy } from './config';
import { checkCredentials, ConnectorSide, declareWorkerQueues, paramsOf, subscriptionsOfStrategies, uniqueSubscriptions } from './connector-node';
import { checkNodeRole, type NodeRole } from './role';
import type { SimulatorOptions } from '../connector/market-data';
import type { TradeDesk } from './trade-commands';
import { COMMAND_QUEUE, COMMAND_TOPICS } from './trade-messages';
import { SNAPSHOT_TOPIC } from './worker';
import type { WorkerArguments } from './worker-main';

/** What the node runs and how. */
export interface NodeOptions {
  readonly config: NodeConfig;
  /** Overrides the configuration's `bus` (`in-process` or an amqp:// URL). */
  readonly bus?: string;
  /**
   * `all` (default): connector and workers in this process; `workers`: no market data here, a connector process on
   * the same RabbitMQ serves it (see `node/connector-node.ts`, which runs the `connector` role).
   */
  readonly role?: Exclude<NodeRole, 'connector'>;
  readonly datasetsRoot?: string;
  readonly storeRoot?: string;
  /** Each strategy's run folders go to `<runsRoot>/<id>/`; default `runs`. */
  readonly runsRoot?: string;
  /** The control socket; default `<runsRoot>/node.sock`. */
  readonly controlSocket?: string;
  readonly simulator?: SimulatorOptions;
  /**
   * Paper broker settings of every strategy; `initialCash` is the account's (default 10,000): a strategy's initial cash
   * is its allocation, `quote` as is or `fraction` of the account.
   */
  readonly broker?: Partial<BrokerConfig>;
  readonly staleAfter?: number;
  /** The account's API keys, needed when a strategy is `mode: real` (see `node/trade-commands.ts`). */
  readonly credentials?: ApiCredentials;
  /** Real ms between reconciliation passes of the real-mode strategies' account (default 30 000). */
  readonly reconcileIntervalMs?: number;
  /** Each worker stops by itself after this many traded candles. */
  readonly maxCandles?: number;
  readonly supervisor?: Omit<SupervisorOptions, 'onEvent' | 'onMessage'>;
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  readonly logLevel?: LogLevel;
}

/** How the node ended: each strategy's final line and the portfolio. */
export type NodeResult = NodeStatus;

const WORKER_MAIN = fileURLToPath(new URL('./worker-main.ts', import.meta.url));

/** How long (real ms) the data's end waits for the workers to act on the last candles before stopping them. */
const DATA_END_WAIT_MS = 30_000;

/**
 * Runs the node until it stops (see the module description).
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} when the market data cannot start, the bus cannot
 *   be reached, or another node holds the control socket, or (role `all`) a `mode: real` strategy has no keys;
 *   workers are stopped first.
 */
export async function runNode(options: NodeOptions): Promise<NodeResult> {
  const { logger, config } = options;
  const runsRoot = options.runsRoot ?? 'runs';
  const busUrl = options.bus ?? config.bus;
  const role = options.role ?? 'all';
  checkNodeRole(role, busUrl);
  const bus: MessageBus = busUrl === 'in-process' ? new InProcessBus() : await AmqpBus.connect(busUrl, { onError: (e) => logger?.warn({ err: e.message }, 'bus connection') });
  const host = busUrl === 'in-process' ? new IpcBusHost(bus) : null;
  const portfolio = new Portfolio();
  const strategies = new Map(config.strategies.map((s) => [s.id, s]));
  const real = config.strategies.filter((s) => s.mode === 'real');
  // With --role workers the connector process holds the keys and the trade desk.
  if (real.length > 0 && role === 'all') checkCredentials(real, options.credentials);
  const subscriptionsOf = await subscriptionsOfStrategies(config, logger);
  const adminStopped = new Set<string>();
  let settle: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => (settle = resolve));
  const supervisor: Supervisor = new Supervisor({
    // A worker's first candle computes its indicators over the whole history (seconds on a loaded machine): a minute
    // of silence, not ten seconds, marks it stuck.
    heartbeatTimeoutMs: 60_000,
    ...options.supervisor,
    onMessage: (id, message) => {
      if (message.type === 'bus') host?.receive(id, message.frame, (frame) => supervisor.post(id, { type: 'bus', frame }));
    },
    onEvent: (event) => {
      if (event.type === 'worker_failed') logger?.error({ strategy: event.id, reason: event.reason }, `${event.id}: failed, not restarted`);
      else if (event.type === 'worker_ended') {
        const expected = event.end.kind === 'stopped' || (event.end.kind === 'exited' && event.end.code === 0);
        (expected ? logger?.info.bind(logger) : logger?.warn.bind(logger))?.({ strategy: event.id }, `${event.id}: worker ${event.description}`);
      }
      else logger?.info({ ...event }, `${event.id}: ${event.type.replace('_', ' ')}`);
      void bus.publish(systemTopic(event.type === 'worker_failed' ? 'alert' : event.type), event).catch(() => undefined);
      if (event.type === 'worker_ended') {
        void host?.detach(event.id);
        // Done when no worker runs or is restarting and at least one ended by itself (finished or failed, not stopped
        // by an admin command); checked once the supervisor has decided what follows the end.
        setImmediate(() => {
          const states = supervisor.status();
          const active = states.some((w) => w.state === 'running' || w.state === 'restarting');
          if (!active && states.some((w) => !adminStopped.has(w.id))) settle();
        });
      }
    },
  });
  const specOf = (s: NodeStrategy): WorkerSpec => {
    const args: WorkerArguments = {
      id: s.id,
      file: s.file,
      params: paramsOf(s),
      datasetsRoot: options.datasetsRoot ?? 'datasets',
      storeRoot: options.storeRoot ?? 'live-data',
      runsRoot: join(runsRoot, s.id),
      simulated: options.simulator !== undefined,
      broker: { ...options.broker, initialCash: strategyCash(s, options.broker?.initialCash ?? DEFAULT_ACCOUNT_CASH) },
      ...(options.staleAfter !== undefined && { staleAfter: Number.isFinite(options.staleAfter) ? options.staleAfter : 'off' }),
      ...(options.maxCandles !== undefined && { maxCandles: options.maxCandles }),
      bus: busUrl,
      ...(s.mode === 'real' && { realOrders: true }),
      logLevel: options.logLevel ?? 'info',
    };
    return { id: s.id, module: WORKER_MAIN, args: [JSON.stringify(args)], heapMb: s.heapMb };
  };
  const status = (): NodeStatus => {
    const running = new Map(supervisor.status().map((w) => [w.id, w]));
    return {
      workers: config.strategies.map((s) => {
        const w = running.get(s.id);
        return { id: s.id, file: s.file, state: w?.state ?? 'disabled', pid: w?.pid ?? null, restarts: w?.restarts ?? 0 };
      }),
      portfolio: portfolio.status(),
    };
  };
  const list = (): StrategyLine[] => {
    const states = new Map(supervisor.status().map((w) => [w.id, w.state]));
    return config.strategies.map((s) => ({
      id: s.id,
      file: s.file,
      params: s.params,
      mode: s.mode,
      allocation: s.allocation,
      enabled: s.enabled,
      state: states.get(s.id) ?? 'disabled',
    }));
  };
  const admin: AdminHandler = async (request): Promise<AdminReply> => {
    if (request.command === 'status') return { ok: true, message: 'status', status: status() };
    if (request.command === 'list') return { ok: true, message: `${config.strategies.length} strategies`, strategies: list() };
    const strategy = strategies.get(request.id);
    if (strategy === undefined) return { ok: false, message: `no strategy "${request.id}" in this node (ids: ${[...strategies.keys()].join(', ')})` };
    const state = supervisor.status().find((w) => w.id === request.id)?.state;
    const active = state === 'running' || state === 'restarting';
    if (request.command === 'stop' || request.command === 'restart') {
      adminStopped.add(request.id);
      if (active) await supervisor.stop(request.id);
      if (request.command === 'stop') return { ok: true, message: active ? `${request.id} stopped` : `${request.id} was not running`, status: status() };
    }
    if (request.command === 'start' && active) return { ok: true, message: `${request.id} is already running`, status: status() };
    adminStopped.delete(request.id);
    supervisor.start(specOf(strategy));
    return { ok: true, message: `${request.id} ${request.command === 'restart' ? 'restarted' : 'started'}`, status: status() };
  };

  let connector: ConnectorSide | null = null;
  let server: Server | null = null;
  try {
    if (real.length > 0) await bus.declare({ queue: COMMAND_QUEUE, topics: COMMAND_TOPICS }); // workers' commands wait for the desk (here or in the connector process)
    const snapshots = await bus.consume({ queue: 'node.portfolio', topics: [SNAPSHOT_TOPIC], prefetch: 100 }, (m) => {
      portfolio.update(m.body as StrategySnapshot);
    });
    server = await serveAdmin(options.controlSocket ?? join(runsRoot, 'node.sock'), admin);
    await serveAdminOnBus(bus, admin); // the same commands from other machines (closed with the bus)
    for (const s of config.strategies) if (s.enabled) supervisor.start(specOf(s));
    // Every configured strategy's subscriptions, the disabled ones' too: `start <id>` finds its market data served.
    const unique = uniqueSubscriptions(config, subscriptionsOf);
    // The workers' queues before the first candle: none is published to a worker not yet consuming.
    if (role === 'all') await declareWorkerQueues(bus, config, subscriptionsOf);
    connector = role === 'workers' ? null : await ConnectorSide.start({
      bus,
      config,
      subscriptionsOf,
      unique,
      datasetsRoot: options.datasetsRoot ?? 'datasets',
      storeRoot: options.storeRoot ?? 'live-data',
      ...(options.simulator !== undefined && { simulator: options.simulator }),
      ...(options.credentials !== undefined && { credentials: options.credentials }),
      runsRoot,
      accountCash: options.broker?.initialCash ?? DEFAULT_ACCOUNT_CASH,
      ...(options.reconcileIntervalMs !== undefined && { reconcileIntervalMs: options.reconcileIntervalMs }),
      onDataEnded: (last, liveCandles) => {
        if (liveCandles) {
          void waitForLastCandles(last).then(settle);
          return;
        }
        // Ended before any candle went out live (started past the data's end): no worker has a candle to act on.
        logger?.warn('no candle went out live before the data ended: the workers stop at once');
        settle();
      },
      ...(options.signal !== undefined && { signal: options.signal }),
      ...(logger !== undefined && { logger }),
    });
    logger?.info({ subscriptions: [...unique.keys()], workers: config.strategies.filter((s) => s.enabled).length, role }, 'node running');
    options.signal?.addEventListener('abort', settle, { once: true });
    if (options.signal?.aborted === true) settle();
    await Promise.race([ended, ...(connector === null ? [] : [connector.market.failed()])]);
    await supervisor.stopAll();
    await snapshots.close();
    return status();
  } finally {
    await supervisor.stopAll();
    await connector?.stop();
    server?.close();
    await bus.close();
  }

  /** Resolves once every running worker's last snapshot is at its traded subscription's last candle, or after a wait. */
  async function waitForLastCandles(last: ReadonlyMap<string, number>): Promise<void> {
    const deadline = Date.now() + DATA_END_WAIT_MS;
    while (Date.now() < deadline) {
      const latest = new Map(portfolio.status().strategies.map((s) => [s.strategyId, s.time]));
      const behind = supervisor.status().some((w) => {
        if (w.state !== 'running') return false;
        const traded = subscriptionsOf.get(w.id)?.[0];
        const end = traded === undefined ? undefined : last.get(marketDataTopic(traded));
        return end !== undefined && (latest.get(w.id) ?? -Infinity) < end;
      });
      if (!behind) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
