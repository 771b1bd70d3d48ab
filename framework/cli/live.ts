/**
 * `npm run live -- <strategy file> [options]`: runs a strategy live on its exchange's public market data with paper
 * trading, or offline on the project's exchange simulator (`--exchange sim`). Ctrl-C stops it cleanly.
 *
 * @module
 */
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { FrameworkError } from '../core/errors';
import { createLogger } from '../core/logger';
import type { ApiCredentials } from '../feeds/live/exchange';
import { isoUtc } from '../core/time';
import { runLive } from '../engine/live';
import type { LiveFeedStatus } from '../feeds/live/live-feed';
import { formatReport } from '../report/table';
import { FAULT_KINDS, type FaultConfig, type FaultKind } from '../sim/config';
import {
  brokerFromOptions,
  collectParam,
  logLevel,
  parseTime,
  runCommand,
  withBrokerOptions,
  withCommonOptions,
  type BrokerCliOptions,
  type CommonOptions,
} from './common';

interface LiveCliOptions extends CommonOptions, BrokerCliOptions {
  readonly exchange?: 'sim';
  readonly simUrl?: string;
  readonly speed: number;
  readonly start: number;
  readonly faults: readonly FaultKind[];
  readonly faultRate: number;
  readonly maxCandles?: number;
  readonly staleAfter: number;
  readonly realOrders?: boolean;
  readonly datasets: string;
  readonly store: string;
  readonly runs: string;
  readonly param: Record<string, string>;
}

function parseFaults(value: string): FaultKind[] {
  const kinds = value.split(',').filter((k) => k !== '');
  const unknown = kinds.filter((k) => !(FAULT_KINDS as readonly string[]).includes(k));
  if (unknown.length > 0) throw new InvalidArgumentError(`unknown fault(s) ${unknown.join(', ')}; choose from ${FAULT_KINDS.join(', ')}`);
  return kinds as FaultKind[];
}

const API_KEY_VARIABLE = 'CANDLECRAFT_API_KEY';
const API_SECRET_VARIABLE = 'CANDLECRAFT_API_SECRET';

/**
 * The API credentials for `--real-orders`, from the environment (never from the command line, where they would land
 * in the shell history and the process list).
 *
 * @throws FrameworkError naming the missing variables (never their values).
 */
function credentialsFromEnvironment(): ApiCredentials {
  const apiKey = process.env[API_KEY_VARIABLE] ?? '';
  const secret = process.env[API_SECRET_VARIABLE] ?? '';
  const missing = [apiKey === '' && API_KEY_VARIABLE, secret === '' && API_SECRET_VARIABLE].filter((v) => v !== false);
  if (missing.length > 0) {
    throw new FrameworkError(`--real-orders needs the API credentials in the environment: set ${missing.join(' and ')}`);
  }
  return { apiKey, secret };
}

/** The REST and WebSocket addresses of a simulator from its `http://host:port` address. */
function simulatorEndpoints(url: string): { restUrl: string; wsUrl: string } {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:') throw new InvalidArgumentError(`--sim-url "${url}": expected http://127.0.0.1:<port>`);
  return { restUrl: parsed.origin, wsUrl: `ws://${parsed.host}/ws` };
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`"${value}" is not a positive whole number`);
  return n;
}

/** `--stale-after`: a positive number of timeframes, or `off` (no candle is stale). */
function staleAfterOption(value: string): number {
  const n = value === 'off' ? Number.POSITIVE_INFINITY : Number(value);
  if (!(n > 0)) throw new InvalidArgumentError(`"${value}" is not a positive number of timeframes (e.g. 1, 0.5, 3) or "off"`);
  return n;
}

/** One compact line: connection, last closed candle, lag, backfills, signals. */
function statusLine(status: LiveFeedStatus, signals: number): string {
  const last = status.lastClosed === null ? '—' : isoUtc(status.lastClosed.openTime).slice(0, 16).replace('T', ' ');
  const lag = status.lagMs === null ? '—' : `${(status.lagMs / 1000).toFixed(1)}s`;
  return (
    `${status.connection} | last closed ${last} | lag ${lag} | candles ${status.emitted} ` +
    `(ws ${status.fromWebsocket}, rest ${status.fromRest}) | backfills ${status.backfills} | ` +
    `reconnects ${status.reconnects} | bad frames ${status.invalidFrames} | signals ${signals}`
  );
}

const program = withCommonOptions(
  withBrokerOptions(new Command('live'))
    .description('Run a strategy live with paper trading (public market data, no API keys needed)')
    .argument('<strategy>', 'strategy plugin file, e.g. strategies/macd.ts')
    .addOption(new Option('--exchange <name>', 'run against the built-in Binance-compatible simulator').choices(['sim']))
    .option('--sim-url <url>', 'connect to a simulator already running (npm run sim) at this http:// address')
    .option('--speed <n>', 'simulator: exchange ms per real ms', Number, 600)
    .option('--start <time>', 'simulator: exchange time to start playing from (UTC)', parseTime, Date.UTC(2021, 5, 1))
    .option('--faults <list>', `simulator: faults to inject (${FAULT_KINDS.join(',')})`, parseFaults, [])
    .option('--fault-rate <p>', 'simulator: probability of each fault per opportunity', Number, 0.01)
    .option('--max-candles <n>', 'stop after this many live closed candles', positiveInteger)
    .option(
      '--stale-after <n>',
      'do not trade a candle that arrives more than n timeframes after its close (e.g. backfilled after a reconnect); "off" trades every candle',
      staleAfterOption,
      1,
    )
    .option(
      '--real-orders',
      `also send long signals to the exchange as spot market orders, with the keys in ${API_KEY_VARIABLE} and ${API_SECRET_VARIABLE}`,
    )
    .option('--datasets <dir>', 'shipped candle store (history, read only)', 'datasets')
    .option('--store <dir>', 'live candle store (write-ahead log + Parquet)', 'live-data')
    .option('--runs <dir>', 'where run folders are written', 'runs')
    .option('--param <name=value>', 'override a strategy parameter (repeatable)', collectParam, {}),
);

program.action(async (file: string, options: LiveCliOptions) => {
  await runCommand(options.verbose === true, async () => {
    const logger = createLogger(logLevel(options));
    const abort = new AbortController();
    process.once('SIGINT', () => {
      process.stderr.write('\nstopping: flushing the candle log, closing sockets, writing the run summary\n');
      abort.abort();
    });
    const tty = process.stderr.isTTY === true;
    const faults = Object.fromEntries(options.faults.map((k) => [k, { rate: options.faultRate }])) as FaultConfig;
    const result = await runLive({
      file,
      params: options.param,
      datasetsRoot: options.datasets,
      storeRoot: options.store,
      runsRoot: options.runs,
      broker: brokerFromOptions(options),
      ...(options.realOrders === true && { realOrders: credentialsFromEnvironment() }),
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
      onStatus: (status, signals) => {
        if (tty) process.stderr.write(`\r\u001b[2K${statusLine(status, signals)}`);
        else logger.info({ status: statusLine(status, signals) }, 'closed candle');
      },
    });
    if (tty) process.stderr.write('\n');
    process.stdout.write(`${statusLine(result.feed, result.engine.signals.length)}\n`);
    if (result.summary === null) {
      process.stdout.write(`no live candle closed before the stop; journal in ${path.relative('.', result.dir)}/\n`);
      return;
    }
    process.stdout.write(`${formatReport(result.summary)}\nrun written to ${path.relative('.', result.dir)}/\n`);
  });
  process.exit();
});

await program.parseAsync();
