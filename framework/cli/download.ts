/**
 * `npm run download -- <exchange> <symbol> <timeframe> [options]`: downloads closed candles over the exchange's REST
 * API into the candle store, resumably.
 *
 * ```text
 * npm run download -- binance BTC/USDT 15m --since 2024-01-01 [--until 2024-07-01] [--datasets datasets]
 * npm run download -- binance BTC/USDT 5m --sim-url http://127.0.0.1:8765     # from a running simulator (npm run sim)
 * ```
 *
 * Run it again to continue an interrupted download (Ctrl-C stops after the page being read; every page read is
 * stored) or to bring the dataset up to date. Prints a summary on standard output; progress and logs go to standard
 * error.
 *
 * @module
 */
import path from 'node:path';
import type { Exchange } from 'ccxt';
import { Command } from 'commander';
import { z } from '../core/zod';
import { createLogger } from '../core/logger';
import type { Subscription } from '../core/subscription';
import { describeSubscription } from '../core/subscription';
import { isoUtc } from '../core/time';
import { timeframeGrid } from '../core/timeframe';
import { DEFAULT_ATTEMPTS, DownloadError } from '../data/fetch-candles';
import type { DownloadResult } from '../data/download';
import { datasetDir } from '../store/layout';
import { dateArg, httpUrlArg, numberArg, parseCommandLine, validateOptions } from './args';
import { commonArgs, logLevel, runCommand, withCommonOptions } from './common';
import { startProgress, type Progress } from './progress';

const optionsSchema = z.object({
  ...commonArgs,
  since: dateArg.optional(),
  until: dateArg.optional(),
  datasets: z.string(),
  simUrl: httpUrlArg.optional(),
  pageLimit: numberArg({ what: 'candles', integer: true, min: 1 }).optional(),
  retries: numberArg({ what: 'tries per request', integer: true, min: 1 }),
});

/** Exit code of a download stopped by Ctrl-C (128 + SIGINT), as shells report it. */
const INTERRUPTED_EXIT_CODE = 130;

/**
 * The ccxt exchange to read from: Binance (or a Binance-compatible simulator at `simUrl`) through `createExchange`,
 * any other ccxt id as a stock ccxt instance; always with ccxt's rate limiter on.
 */
async function openExchange(id: string, simUrl: URL | undefined): Promise<Exchange> {
  // ccxt is loaded only once the options are valid (a bad value fails without it), and all of it (about 340 files)
  // only for an exchange other than Binance.
  const [{ loadCcxt }, { createExchange }] = await Promise.all([import('../core/ccxt'), import('../feeds/live/exchange')]);
  if (simUrl !== undefined) {
    if (id !== 'binance') throw new DownloadError(`--sim-url: the simulator is Binance-compatible; use the exchange id "binance", not "${id}"`);
    const origin = simUrl.origin;
    return createExchange('binance', { urls: { restUrl: origin, wsUrl: `${origin.replace(/^http/, 'ws')}/ws` } });
  }
  if (id === 'binance') return createExchange('binance');
  const ccxt = loadCcxt();
  if (!ccxt.exchanges.includes(id)) throw new DownloadError(`unknown exchange "${id}": expected a ccxt exchange id, e.g. binance`);
  const ExchangeClass = (ccxt as unknown as Record<string, new (config: object) => Exchange>)[id]!;
  return new ExchangeClass({ enableRateLimit: true });
}

function summary(result: DownloadResult, root: string): string {
  const what = describeSubscription(result.subscription);
  const grid = timeframeGrid(result.subscription.timeframe);
  const dir = `dataset: ${path.relative('.', datasetDir(root, result.subscription)) || '.'}/`;
  if (result.from >= result.to) {
    const last = result.resumedAfter === null ? '' : ` (last stored candle ${isoUtc(result.resumedAfter)})`;
    return `${what}: nothing to download, up to date${last}\n${dir}`;
  }
  const missing = result.gaps.reduce((sum, g) => sum + g.missing, 0);
  const span = result.first === null ? '' : ` (${isoUtc(result.first)} to ${isoUtc(result.last!)})`;
  const lines = [
    `${what}: ${count(result.stored, 'candle')} stored${span} in ${count(result.pages, 'page')}; ` +
      `${result.rejected} rejected; ${count(result.gaps.length, 'gap')} (${count(missing, 'missing candle')}); ` +
      `${count(result.retries, 'retry', 'retries')} (${count(result.rateLimitWaits, 'rate-limit wait')})`,
  ];
  if (result.resumedAfter !== null) lines.push(`resumed after the stored candle of ${isoUtc(result.resumedAfter)}`);
  if (!result.complete) {
    lines.push(`interrupted: candles up to ${isoUtc(grid.previousOpen(result.reached))} are stored; run the same command again to resume`);
  }
  lines.push(dir);
  return lines.join('\n');
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

const program = withCommonOptions(
  new Command('download')
    .description('Download closed candles over the exchange REST API into the candle store (resumable)')
    .argument('<exchange>', 'ccxt exchange id, e.g. binance')
    .argument('<symbol>', 'symbol, e.g. BTC/USDT')
    .argument('<timeframe>', 'timeframe, e.g. 15m')
    .option('--since <time>', 'first open time for a new dataset: a UTC date YYYY-MM-DD[THH:MM[:SS]] or epoch ms')
    .option('--until <time>', 'stop before this open time (default: up to the last closed candle)')
    .option('--datasets <dir>', 'candle store root', 'datasets')
    .option('--sim-url <url>', "read from the project's Binance-compatible simulator at this URL, e.g. http://127.0.0.1:8765")
    .option('--page-limit <n>', 'candles per request (default 1000, the Binance spot maximum)')
    .option('--retries <n>', 'tries per request before giving up (an unreachable exchange, HTTP 5xx)', String(DEFAULT_ATTEMPTS)),
);

program.action(async (exchangeId: string, symbol: string, timeframe: string, raw: Record<string, unknown>) => {
  await runCommand(raw['verbose'] === true, async () => {
    const options = validateOptions(optionsSchema, raw);
    const logger = createLogger(logLevel(options));
    const subscription: Subscription = { exchange: exchangeId, symbol, timeframe };
    datasetDir(options.datasets, subscription); // checks the exchange id, symbol and timeframe before connecting
    const { downloadCandles } = await import('../data/download');
    const exchange = await openExchange(exchangeId, options.simUrl);
    const abort = new AbortController();
    process.once('SIGINT', () => {
      process.stderr.write('\nstopping after the page being read (Ctrl-C again to quit at once)\n');
      abort.abort();
    });
    const grid = timeframeGrid(timeframe);
    const tf = grid.nominalMs;
    let bar: Progress | undefined;
    try {
      const result = await downloadCandles({
        exchange,
        subscription,
        root: options.datasets,
        signal: abort.signal,
        logger,
        ...(options.since !== undefined && { since: options.since }),
        ...(options.until !== undefined && { until: options.until }),
        ...(options.pageLimit !== undefined && { pageLimit: options.pageLimit }),
        attempts: options.retries,
        onProgress: (p) => {
          if (p.to <= p.from) return;
          bar ??= startProgress(`download ${describeSubscription(subscription)}`, Math.round((p.to - p.from) / tf), options.quiet !== true);
          bar.update(Math.round((p.reached - p.from) / tf), p.reached > p.from ? `up to ${isoUtc(grid.previousOpen(p.reached))}` : undefined);
        },
      });
      bar?.stop();
      process.stdout.write(`${summary(result, options.datasets)}\n`);
      if (!result.complete) process.exitCode = INTERRUPTED_EXIT_CODE;
    } finally {
      bar?.stop();
      await exchange.close();
    }
  });
});

await parseCommandLine(program);
