/**
 * `npm run live -- <strategy file> [options]`: runs a strategy live on its exchange's public market data with paper
 * trading, or offline on the project's exchange simulator (`--exchange sim`). Ctrl-C stops it cleanly.
 *
 * @module
 */
import path from 'node:path';
import { Command } from 'commander';
import { z } from '../core/zod';
import { createLogger } from '../core/logger';
import { isoUtc } from '../core/time';
import type { LiveFeedStatus } from '../feeds/live/live-feed';
import { FAULT_KINDS, type FaultConfig } from '../sim/config';
import { numberArg, paramsArg, parseCommandLine, validateOptions } from './args';
import { LIVE_EXCHANGES, liveMarketArgs } from './market-args';
import {
  brokerArgs,
  brokerFromOptions,
  commonArgs,
  credentialsFromEnvironment,
  logLevel,
  runCommand,
  withBrokerOptions,
  withCommonOptions,
  withParamOption,
} from './common';
import { StatusLine } from './status-line';
import { runOutsideTsxRelay } from './tsx-relay';

/** The simulator's default start: 2021-06-01 00:00 UTC, inside every shipped dataset. */
const DEFAULT_START = '2021-06-01';

const EXCHANGES = LIVE_EXCHANGES;

const optionsSchema = z.object({
  ...commonArgs,
  ...brokerArgs,
  ...liveMarketArgs,
  realOrders: z.boolean().optional(),
  reconcileEvery: numberArg({ what: 'seconds', min: 0, minInclusive: false }),
  datasets: z.string(),
  store: z.string(),
  runs: z.string(),
  param: paramsArg,
});

/** The REST and WebSocket addresses of a simulator from its `http://host:port` address. */
function simulatorEndpoints(url: URL): { restUrl: string; wsUrl: string } {
  return { restUrl: url.origin, wsUrl: `ws://${url.host}/ws` };
}

/**
 * One compact line: connection, last closed candle, lag, candles and where they came from, backfills, reconnects, bad
 * frames, duplicates dropped, revisions, stale candles, rate-limit waits, signals, on the in-process simulator the
 * faults it injected, and the symbols whose entries reconciliation blocks.
 */
function statusLine(status: LiveFeedStatus, signals: number, faults?: Readonly<Record<string, number>>, blocked: readonly string[] = []): string {
  const last = status.lastClosed === null ? '—' : isoUtc(status.lastClosed.openTime).slice(0, 16).replace('T', ' ');
  const lag = status.lagMs === null ? '—' : `${(status.lagMs / 1000).toFixed(1)}s`;
  const injected = faults === undefined ? 0 : Object.values(faults).reduce((sum, n) => sum + n, 0);
  return (
    `${status.connection} | last closed ${last} | lag ${lag} | candles ${status.emitted} ` +
    `(ws ${status.fromWebsocket}, rest ${status.fromRest}) | backfills ${status.backfills} | ` +
    `reconnects ${status.reconnects} | bad frames ${status.invalidFrames} | duplicates ${status.duplicates} | ` +
    `revisions ${status.revisions} | stale ${status.stale} | rate-limit waits ${status.rateLimitWaits} | signals ${signals}` +
    (faults === undefined ? '' : ` | faults injected ${injected}`) +
    (blocked.length === 0 ? '' : ` | ENTRIES BLOCKED ${blocked.join(', ')} (reconciliation)`)
  );
}

const program = withCommonOptions(
  withParamOption(withBrokerOptions(new Command('live')))
    .description('Run a strategy live with paper trading (public market data, no API keys needed)')
    .argument('<strategy>', 'strategy plugin file, e.g. strategies/macd.ts')
    .option('--exchange <name>', `${EXCHANGES.join(' or ')}: the strategy's exchange (public market data), or the built-in Binance-compatible simulator`)
    .option('--sim-url <url>', 'connect to a simulator already running (npm run sim) at this http:// address')
    .option('--speed <n>', 'simulator: exchange ms per real ms', '600')
    .option('--start <time>', 'simulator: exchange time to start playing from, a UTC date YYYY-MM-DD[THH:MM[:SS]] or epoch ms', DEFAULT_START)
    .option('--faults <list>', `simulator: faults to inject, comma-separated (${FAULT_KINDS.join(',')})`, '')
    .option('--fault-rate <p>', 'simulator: probability of each fault per opportunity', '0.01')
    .option('--max-candles <n>', 'stop after this many live closed candles')
    .option(
      '--stale-after <n>',
      'do not trade a candle that arrives more than n timeframes after its close (e.g. backfilled after a reconnect); "off" trades every candle',
      '1',
    )
    .option(
      '--real-orders',
      `also mirror every paper fill on the exchange's spot account as market orders, with the keys in CANDLECRAFT_API_KEY and CANDLECRAFT_API_SECRET`,
    )
    .option(
      '--reconcile-every <seconds>',
      "with --real-orders: seconds (real time, also on the simulator) between reconciliations with the exchange account",
      '30',
    )
    .option('--datasets <dir>', 'shipped candle store (history, read only)', 'datasets')
    .option('--store <dir>', 'live candle store (write-ahead log + Parquet)', 'live-data')
    .option('--runs <dir>', 'where run folders are written', 'runs'),
);

program.action(async (file: string, raw: Record<string, unknown>) => {
  await runCommand(raw['verbose'] === true, async () => {
    const options = validateOptions(optionsSchema, raw);
    const tty = process.stderr.isTTY === true;
    const status = tty ? new StatusLine(process.stderr) : null;
    const logger = createLogger(logLevel(options), status?.logStream);
    const abort = new AbortController();
    // Every SIGINT is handled: a terminal's Ctrl-C reaches both `tsx` and this process, and `tsx` relays it again; an
    // unhandled second one would end the process before the run is written.
    process.on('SIGINT', () => {
      if (abort.signal.aborted) return;
      status?.finish();
      process.stderr.write('stopping: flushing the candle log, closing sockets, writing the run summary\n');
      abort.abort();
    });
    const faults = Object.fromEntries(options.faults.map((k) => [k, { rate: options.faultRate }])) as FaultConfig;
    // The engine (ccxt, the feeds, the store) is loaded only for valid options: a bad value fails without it.
    const { runLive } = await import('../node/live');
    const result = await runLive({
      file,
      params: options.param,
      datasetsRoot: options.datasets,
      storeRoot: options.store,
      runsRoot: options.runs,
      broker: brokerFromOptions(options),
      ...(options.realOrders === true && { realOrders: credentialsFromEnvironment('--real-orders'), reconcileIntervalMs: options.reconcileEvery * 1000 }),
      signal: abort.signal,
      logger,
      ...((options.exchange === 'sim' || options.simUrl !== undefined) && {
        simulator:
          options.simUrl === undefined
            ? { start: options.start, speed: options.speed, faults }
            : { endpoints: simulatorEndpoints(options.simUrl), speed: options.speed },
      }),
      ...(options.maxCandles !== undefined && { maxCandles: options.maxCandles }),
      staleAfter: options.staleAfter,
      onStatus: (feed, signals, faults, blocked) => {
        if (status !== null) status.update(statusLine(feed, signals, faults, blocked));
        else logger.info({ status: statusLine(feed, signals, faults, blocked) }, 'closed candle');
      },
    });
    status?.finish();
    process.stdout.write(`${statusLine(result.feed, result.engine.signals.length)}\n`);
    if (result.dataEndedAt !== null) {
      process.stdout.write(`the simulator's data ended with the candle of ${isoUtc(result.dataEndedAt)}; stopped\n`);
    }
    if (result.summary === null) {
      process.stdout.write(`no live candle closed before the stop; journal in ${path.relative('.', result.dir)}/\n`);
      return;
    }
    const { formatReport } = await import('../report/table'); // cli-table3: only once a run has a summary to print
    process.stdout.write(`${formatReport(result.summary)}\nrun written to ${path.relative('.', result.dir)}/\n`);
  });
  process.exit();
});

// Under `npx tsx`, the run goes one process down, where tsx cannot SIGKILL it mid-stop (see cli/tsx-relay).
const outside = await runOutsideTsxRelay();
if (outside !== null) process.exit(outside);
await parseCommandLine(program);
