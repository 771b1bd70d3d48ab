/**
 * `npm run node -- <config> [options]`: runs a trading node (its strategies as supervised workers fed by one
 * connector over the bus). `npm run node -- status | stop <id> | start <id> | restart <id>` talk to a running node
 * through its control socket (`<runs>/node.sock`, or `--control <path>`), or with `--bus amqp://…` over its RabbitMQ
 * bus from any machine. Ctrl-C stops the node cleanly. With RabbitMQ, `--role connector` and `--role workers` run the
 * node's two halves as two processes (see `node/connector-node.ts`).
 *
 * @module
 */
import path from 'node:path';
import { Command } from 'commander';
import { z } from '../core/zod';
import { createLogger } from '../core/logger';
import { isoUtc } from '../core/time';
import { sendAdmin, type AdminReply, type AdminRequest, type NodeStatus, type StrategyLine } from '../node/admin';
import { sendAdminOverBus } from '../node/admin-bus';
import type { SimulatorOptions } from '../connector/market-data';
import { checkNodeRole, NODE_ROLES } from '../node/role';
import { FAULT_KINDS, type FaultConfig } from '../sim/config';
import { numberArg, parseCommandLine, UsageError, validateOptions } from './args';
import { LIVE_EXCHANGES, liveMarketArgs } from './market-args';
import { brokerArgs, brokerFromOptions, commonArgs, credentialsFromEnvironment, logLevel, runCommand, withBrokerOptions, withCommonOptions } from './common';

const EXCHANGES = LIVE_EXCHANGES;
const ADMIN_COMMANDS = ['list', 'status', 'stop', 'start', 'restart'] as const;

const runSchema = z.object({
  ...commonArgs,
  ...brokerArgs,
  ...liveMarketArgs,
  bus: z.string().regex(/^(in-process|amqps?:\/\/.+)$/, 'expected "in-process" or an amqp:// URL').optional(),
  role: z.enum(NODE_ROLES),
  control: z.string().optional(),
  reconcileEvery: numberArg({ what: 'seconds', min: 0, minInclusive: false }),
  datasets: z.string(),
  store: z.string(),
  runs: z.string(),
});

const adminSchema = z.object({
  ...commonArgs,
  control: z.string().optional(),
  bus: z.string().regex(/^amqps?:\/\/.+$/, 'expected the node\'s amqp:// URL (an in-process bus is reached through --control)').optional(),
  runs: z.string(),
  json: z.boolean().optional(),
});

const runProgram = withCommonOptions(
  withBrokerOptions(new Command('node'))
    .description('Run a trading node: the strategies of a node configuration as supervised workers over one connector')
    .argument('<config>', 'node configuration, YAML (node.yaml) or TypeScript (node.config.ts)')
    .option('--exchange <name>', `${EXCHANGES.join(' or ')}: the strategies' exchange (public market data), or the built-in simulator`)
    .option('--sim-url <url>', 'connect to a simulator already running (npm run sim) at this http:// address')
    .option('--speed <n>', 'simulator: exchange ms per real ms', '600')
    .option('--start <time>', 'simulator: exchange time to start playing from (UTC date or epoch ms)', '2021-06-01')
    .option('--faults <list>', `simulator: faults to inject, comma-separated (${FAULT_KINDS.join(',')})`, '')
    .option('--fault-rate <p>', 'simulator: probability of each fault per opportunity', '0.01')
    .option('--max-candles <n>', 'each worker stops after this many live closed candles')
    .option('--stale-after <n>', 'do not trade a candle that arrives more than n timeframes after its close; "off" trades every candle', '1')
    .option('--bus <url>', 'the message bus: "in-process" (default, or the configuration\'s) or amqp://user:password@host:port')
    .option('--role <role>', 'all (default): connector and workers here; connector or workers: that half only, the other in a second process on the same --bus amqp://…', 'all')
    .option('--control <path>', 'the control socket (default <runs>/node.sock)')
    .option('--reconcile-every <seconds>', 'mode: real strategies: seconds between reconciliations of the account with their holdings', '30')
    .option('--datasets <dir>', 'shipped candle store (history, read only)', 'datasets')
    .option('--store <dir>', 'live candle store (write-ahead log + Parquet)', 'live-data')
    .option('--runs <dir>', 'run folders go to <runs>/<strategy id>/', 'runs'),
);

const adminProgram = withCommonOptions(
  new Command('node')
    .description("Admin commands for a running node, through its control socket: list, status, stop <id>, start <id>, restart <id>")
    .argument('<command>', ADMIN_COMMANDS.join(', '))
    .argument('[id]', 'the strategy id (stop, start, restart)')
    .option('--control <path>', 'the control socket (default <runs>/node.sock)')
    .option('--bus <url>', "send the command over the node's RabbitMQ bus (amqp://…) instead: from any machine")
    .option('--runs <dir>', 'the runs folder of the node', 'runs')
    .option('--json', 'print the reply as JSON'),
);

runProgram.action(async (file: string, raw: Record<string, unknown>) => {
  await runCommand(raw['verbose'] === true, async () => {
    const options = validateOptions(runSchema, raw);
    // The configuration reader (yaml) is loaded only to run a node: a bad option or an admin command starts without it.
    const { loadNodeConfig } = await import('../node/config');
    const config = await loadNodeConfig(file);
    const level = logLevel(options);
    const logger = createLogger(level);
    const abort = new AbortController();
    const stopping = (): void => {
      if (abort.signal.aborted) return;
      process.stderr.write('stopping: workers finish their candle and write their runs; flushing the candle log\n');
      abort.abort();
    };
    process.on('SIGINT', stopping);
    process.on('SIGTERM', stopping);
    const faults = Object.fromEntries(options.faults.map((k) => [k, { rate: options.faultRate }])) as FaultConfig;
    const simUrl = options.simUrl;
    // The node (the engine, ccxt, the feeds, the store) is loaded only to run one: an admin command (status, stop,
    // start, restart) is a small client of the control socket and starts without it.
    checkNodeRole(options.role, options.bus ?? config.bus); // before the node's modules are loaded
    const simulator: SimulatorOptions | undefined =
      options.exchange === 'sim' || simUrl !== undefined
        ? simUrl === undefined
          ? { start: options.start, speed: options.speed, faults }
          : { endpoints: { restUrl: simUrl.origin, wsUrl: `ws://${simUrl.host}/ws` }, speed: options.speed }
        : undefined;
    // mode: real: the keys and the reconciliation go where the trade desk runs, beside the market data.
    const real = options.role !== 'workers' && config.strategies.some((s) => s.mode === 'real')
      ? { credentials: credentialsFromEnvironment('mode: real'), reconcileIntervalMs: options.reconcileEvery * 1000 }
      : {};
    if (options.role === 'connector') {
      const { runConnectorNode } = await import('../node/connector-node');
      const bus = options.bus ?? config.bus;
      await runConnectorNode({
        config,
        bus,
        datasetsRoot: options.datasets,
        storeRoot: options.store,
        runsRoot: options.runs,
        ...(options.cash !== undefined && { accountCash: options.cash }),
        ...real,
        ...(simulator !== undefined && { simulator }),
        signal: abort.signal,
        logger,
      });
      process.stdout.write(`connector stopped; candles stored in ${path.relative('.', options.store) || '.'}\n`);
      process.exit();
    }
    const { runNode } = await import('../node/node');
    const result = await runNode({
      config,
      ...(options.bus !== undefined && { bus: options.bus }),
      role: options.role,
      datasetsRoot: options.datasets,
      storeRoot: options.store,
      runsRoot: options.runs,
      ...(options.control !== undefined && { controlSocket: options.control }),
      broker: brokerFromOptions(options),
      ...real,
      staleAfter: options.staleAfter,
      ...(options.maxCandles !== undefined && { maxCandles: options.maxCandles }),
      ...(simulator !== undefined && { simulator }),
      signal: abort.signal,
      logger,
      logLevel: level,
    });
    process.stdout.write(`${formatStatus(result)}\nruns written to ${path.relative('.', options.runs) || '.'}/<strategy id>/\n`);
  });
  process.exit();
});

adminProgram.action(async (command: string, id: string | undefined, raw: Record<string, unknown>) => {
  await runCommand(raw['verbose'] === true, async () => {
    const options = validateOptions(adminSchema, raw);
    const request = adminRequest(command, id);
    const reply = options.bus === undefined ? await sendAdmin(options.control ?? path.join(options.runs, 'node.sock'), request) : await overBus(options.bus, request);
    if (options.json === true) process.stdout.write(`${JSON.stringify(reply)}\n`);
    else {
      const table = reply.status !== undefined ? formatStatus(reply.status) : reply.strategies !== undefined ? formatList(reply.strategies) : undefined;
      process.stdout.write(`${reply.message}\n${table === undefined ? '' : `${table}\n`}`);
    }
    if (!reply.ok) process.exitCode = 1;
  });
});

/** Sends `request` over the RabbitMQ bus at `url` (see `node/admin-bus.ts`). */
async function overBus(url: string, request: AdminRequest): Promise<AdminReply> {
  const { AmqpBus } = await import('../bus/amqp'); // RabbitMQ's client: only for --bus, not for the control socket
  const bus = await AmqpBus.connect(url);
  try {
    return await sendAdminOverBus(bus, request);
  } finally {
    await bus.close();
  }
}

function adminRequest(command: string, id: string | undefined): AdminRequest {
  if (command === 'status' || command === 'list') return { command };
  if (command === 'stop' || command === 'start' || command === 'restart') {
    if (id === undefined) throw new UsageError(`node ${command}: name the strategy id, e.g. npm run node -- ${command} macd-fast`);
    return { command, id };
  }
  throw new UsageError(`node ${command}: unknown command; expected ${ADMIN_COMMANDS.join(', ')} or a node configuration file`);
}

/** The status as a table: per strategy, then the total and the exposure per asset. Money in quote currency. */
function formatStatus(status: NodeStatus): string {
  const money = (n: number): string => n.toFixed(2);
  const byId = new Map(status.portfolio.strategies.map((s) => [s.strategyId, s]));
  const rows = status.workers.map((w) => {
    const s = byId.get(w.id);
    return [
      w.id,
      w.state,
      String(w.restarts),
      s === undefined ? '—' : isoUtc(s.time).slice(0, 16).replace('T', ' '),
      s === undefined ? '—' : money(s.equity),
      s === undefined ? '—' : money(s.realisedPnl),
      s === undefined ? '—' : money(s.unrealisedPnl),
      s === undefined ? '—' : `${(s.maxDrawdown * 100).toFixed(2)}%`,
    ];
  });
  const t = status.portfolio.total;
  rows.push(['total', '', '', '', money(t.equity), money(t.realisedPnl), money(t.unrealisedPnl), `${(t.maxDrawdown * 100).toFixed(2)}%`]);
  const header = ['strategy', 'state', 'restarts', 'last candle', 'equity', 'realised', 'unrealised', 'max drawdown'];
  const exposure = Object.entries(t.exposure).map(([asset, e]) => `${asset} ${e.quantity} (${money(e.value)})`);
  return [...table(header, rows, 4), `exposure: ${exposure.length === 0 ? 'none' : exposure.join(', ')}`].join('\n');
}

/** The configured strategies as a table (`list`): id, state, mode, allocation, file and parameters. */
function formatList(strategies: readonly StrategyLine[]): string {
  const rows = strategies.map((s) => [
    s.id,
    s.state,
    s.mode,
    'quote' in s.allocation ? `${s.allocation.quote} quote` : `${s.allocation.fraction * 100}% of the account`,
    s.file,
    Object.entries(s.params).map(([k, v]) => `${k}=${v}`).join(' ') || '(defaults)',
  ]);
  return table(['strategy', 'state', 'mode', 'allocation', 'file', 'params'], rows, 6).join('\n');
}

/** Lines of a text table: the first `left` columns padded on the right, the others (numbers) on the left. */
function table(header: readonly string[], rows: readonly (readonly string[])[], left: number): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i < left ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

const first = process.argv[2];
await parseCommandLine((ADMIN_COMMANDS as readonly string[]).includes(first ?? '') ? adminProgram : runProgram);
