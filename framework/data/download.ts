/**
 * Downloading a dataset's history over ccxt REST into the store, resumably: every page goes through the candle
 * pipeline and is written to the monthly partitions as it arrives, and a new download starts after the last stored
 * candle.
 *
 * @module
 */
import type { Exchange } from 'ccxt';
import { batchLength } from '../core/candle';
import type { Logger } from '../core/logger';
import { describeSubscription, type Subscription } from '../core/subscription';
import { isoUtc } from '../core/time';
import { timeframeGrid, type TimeframeGrid } from '../core/timeframe';
import { callWithRetry, DEFAULT_BACKOFF, type BackoffPolicy, type RetryCounters } from '../feeds/live/retry';
import { findGaps, type Gap } from '../pipeline/gaps';
import { listPartitions, monthRange, partitionMonth } from '../store/layout';
import { readDataset, writeCandles } from '../store/partitions';
import { DEFAULT_ATTEMPTS, DownloadError, fetchCandlePages, triesOf } from './fetch-candles';
import { messageOf } from '../core/errors';

/**
 * Options of {@link downloadCandles}.
 * - `exchange`: a ccxt exchange, created with `enableRateLimit: true` against a real exchange (e.g. `createExchange`);
 *   the caller closes it;
 * - `subscription`: which candles; `subscription.exchange` names the dataset folder;
 * - `root`: the datasets folder (e.g. `datasets`), created if missing;
 * - `since`: the first open time wanted (UTC epoch ms; rounded up to the timeframe). Needed when the dataset does not
 *   exist; when it does, the download starts after its last candle (or at `since` if that is later);
 * - `until`: open times at or after it are not downloaded (UTC epoch ms, exclusive; default: up to the candle
 *   forming on the exchange, which is never stored);
 * - `pageLimit`: candles per request (default 1 000, Binance spot's maximum);
 * - `backoff`: waits between retries of a failed request (default 500 ms doubling to 30 s, with jitter);
 * - `attempts`: tries per request before the download gives up (default 5);
 * - `signal`: stops the download after the page being read (it stays stored); the result then has `complete: false`;
 * - `logger`: the plan, rejected rows (with the row), retries, gaps;
 * - `onProgress`: see {@link DownloadOptions.onProgress}.
 */
export interface DownloadOptions {
  readonly exchange: Exchange;
  readonly subscription: Subscription;
  readonly root: string;
  readonly since?: number;
  readonly until?: number;
  readonly pageLimit?: number;
  readonly backoff?: BackoffPolicy;
  readonly attempts?: number;
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  /** Called with where the download stands, once before the first request and after every page stored. */
  readonly onProgress?: (progress: DownloadProgress) => void;
}

/**
 * Where a download stands.
 * - `from`, `to`: the open times it covers (UTC epoch ms, `to` exclusive); `to` is at most the open time of the
 *   candle forming on the exchange when the download started;
 * - `reached`: every candle with an open time before it has been read (starts at `from`, ends at `to` or, when the
 *   exchange has no candle up to `to`, after the last candle it has);
 * - `stored`: candles written so far; `pages`: pages read so far.
 */
export interface DownloadProgress {
  readonly from: number;
  readonly to: number;
  readonly reached: number;
  readonly stored: number;
  readonly pages: number;
}

/**
 * What {@link downloadCandles} did.
 * - `resumedAfter`: open time of the last candle stored before the download (`null` for a new dataset);
 * - `first`, `last`: open times of the first and last candle it stored (`null` when none);
 * - `rejected`: rows the pipeline dropped (each logged with its reason); `duplicates`: rows repeated in a page;
 * - `gaps`: runs of candles the exchange does not have between the first candle stored (or `resumedAfter` when the
 *   download continued right after it) and `last`;
 * - `retries`, `rateLimitWaits`: failed requests retried, of which waits asked by the exchange (`Retry-After`);
 * - `complete`: `false` when `signal` stopped it before `to`.
 */
export interface DownloadResult extends DownloadProgress {
  readonly subscription: Subscription;
  readonly resumedAfter: number | null;
  readonly first: number | null;
  readonly last: number | null;
  readonly rejected: number;
  readonly duplicates: number;
  readonly gaps: readonly Gap[];
  readonly retries: number;
  readonly rateLimitWaits: number;
  readonly complete: boolean;
}

/**
 * Downloads the closed candles of a subscription into the store (the freqtrade `download-data` job, resumable).
 *
 * 1. Loads the exchange's markets (the symbol must exist) and reads its clock (`fetchTime`, or the local clock for an
 *    exchange without one): candles whose open time is before the open time of the forming candle are closed.
 * 2. Plans `[from, to)`: `from` is the open time after the last stored candle (or `since`, whichever is later; `since`
 *    alone for a new dataset); `to` is `until` or the forming candle's open time, whichever is earlier. A `since`
 *    before the first stored candle is not fetched (the store is extended forward only; a warning says so).
 * 3. Reads the range page by page ({@link fetchCandlePages}: ccxt `fetchOHLCV`, rate-limited, retried) and writes
 *    each page through the pipeline (validated, de-duplicated, ordered, source `rest`, `receivedAt` stamped) into the
 *    monthly partitions before asking for the next one. An interrupted download has therefore stored every page it
 *    read, and the next run continues after its last candle, with no gap and no duplicate.
 *
 * Candles already stored are never rewritten: every page starts after the last stored open time.
 *
 * @returns see {@link DownloadResult}.
 * @throws {@link "data/fetch-candles"!DownloadError | DownloadError} when the exchange has no such market, when the
 *   dataset is new and `since` is missing, or when a request fails for good or `signal` aborts while loading the
 *   markets (what was stored before stays stored).
 * @throws the store's errors (`CorruptDataError` for a damaged partition, I/O errors) and `InvalidTimeframeError`.
 */
export async function downloadCandles(options: DownloadOptions): Promise<DownloadResult> {
  const { exchange, subscription, root, logger, signal } = options;
  const where = describeSubscription(subscription);
  const grid = timeframeGrid(subscription.timeframe);
  const counters: RetryCounters = { retries: 0, rateLimitWaits: 0 };
  const attempts = options.attempts ?? DEFAULT_ATTEMPTS;
  const retry = async <T>(call: () => Promise<T>, what: string): Promise<T> => {
    try {
      return await callWithRetry(call, {
        what: `${where}: ${what}`,
        backoff: options.backoff ?? DEFAULT_BACKOFF,
        maxAttempts: attempts,
        responseHeaders: () => exchange.last_response_headers,
        counters,
        ...(signal !== undefined && { signal }),
        ...(logger !== undefined && { logger }),
      });
    } catch (error) {
      throw new DownloadError(`${where}: ${what} failed${signal?.aborted === true ? '' : triesOf(error, attempts)}: ${messageOf(error)}`, { cause: error });
    }
  };

  await retry(() => exchange.loadMarkets(), 'loadMarkets');
  if (exchange.markets?.[subscription.symbol] === undefined) {
    throw new DownloadError(`${where}: the exchange ${exchange.id} has no market ${subscription.symbol}`);
  }
  const exchangeNow = (exchange.has['fetchTime'] === true ? await retry(() => exchange.fetchTime(), 'fetchTime') : undefined) ?? Date.now();
  const stored = storedSpan(root, subscription);
  const from = startOfDownload(stored, options.since, grid, where, logger);
  const to = Math.min(options.until ?? Number.POSITIVE_INFINITY, grid.bucketStart(exchangeNow));
  logger?.info(
    { from: isoUtc(from), to: to > from ? isoUtc(to) : null, resumedAfter: stored === null ? null : isoUtc(stored.last) },
    to > from ? `${where}: downloading` : `${where}: nothing to download`,
  );

  let reached = from;
  let storedCount = 0;
  let pages = 0;
  let rejected = 0;
  let duplicates = 0;
  let first: number | null = null;
  let last: number | null = null;
  const gaps: Gap[] = [];
  const progress = (): DownloadProgress => ({ from, to, reached, stored: storedCount, pages });
  options.onProgress?.(progress());

  for await (const page of fetchCandlePages({
    exchange,
    subscription,
    from,
    to,
    counters,
    ...(options.pageLimit !== undefined && { pageLimit: options.pageLimit }),
    ...(options.backoff !== undefined && { backoff: options.backoff }),
    attempts,
    ...(signal !== undefined && { signal }),
    ...(logger !== undefined && { logger }),
  })) {
    for (const r of page.rejected) logger?.warn({ row: r.value }, `rejected: ${r.reason}`);
    const n = batchLength(page.candles);
    if (n > 0) {
      writeCandles(root, subscription, page.candles);
      const times = page.candles.openTime;
      const previous = last ?? (stored !== null && from === grid.nextOpen(stored.last) ? stored.last : null);
      const pageGaps = findGaps(previous === null ? times : Float64Array.of(previous, ...times), subscription.timeframe);
      for (const g of pageGaps) logger?.warn({ missing: g.missing }, `${where}: the exchange has no candles from ${isoUtc(g.start)} to ${isoUtc(g.end)}`);
      gaps.push(...pageGaps);
      first ??= times[0]!;
      last = times[n - 1]!;
    }
    pages++;
    storedCount += n;
    rejected += page.rejected.length;
    duplicates += page.duplicates;
    reached = Math.min(page.next, to);
    logger?.debug({ stored: n, reached: isoUtc(reached) }, `${where}: page stored`);
    options.onProgress?.(progress());
  }

  const complete = signal?.aborted !== true;
  if (complete && reached < to) {
    logger?.info({ from: isoUtc(reached), to: isoUtc(to) }, `${where}: the exchange has no candles after ${isoUtc(grid.previousOpen(reached))}`);
  }
  return {
    ...progress(),
    subscription,
    resumedAfter: stored?.last ?? null,
    first,
    last,
    rejected,
    duplicates,
    gaps,
    retries: counters.retries,
    rateLimitWaits: counters.rateLimitWaits,
    complete,
  };
}

/** Open times of the first and last stored candle of a dataset, reading only its first and last partition. */
function storedSpan(root: string, subscription: Subscription): { readonly first: number; readonly last: number } | null {
  const paths = listPartitions(root, subscription);
  if (paths.length === 0) return null;
  const head = readDataset(root, subscription, { to: monthRange(partitionMonth(paths[0]!)!).end }).openTime;
  const tail = readDataset(root, subscription, { from: monthRange(partitionMonth(paths[paths.length - 1]!)!).start }).openTime;
  if (head.length === 0 || tail.length === 0) return null;
  return { first: head[0]!, last: tail[tail.length - 1]! };
}

/** The first open time to download; see {@link downloadCandles} step 2. */
function startOfDownload(
  stored: { readonly first: number; readonly last: number } | null,
  since: number | undefined,
  grid: TimeframeGrid,
  where: string,
  logger: Logger | undefined,
): number {
  const wanted = since === undefined ? undefined : grid.isAligned(since) ? since : grid.nextOpen(grid.bucketStart(since));
  if (stored === null) {
    if (wanted === undefined) {
      throw new DownloadError(`${where}: no candles stored yet; give the first open time to download (since, --since)`);
    }
    return wanted;
  }
  const next = grid.nextOpen(stored.last);
  if (wanted !== undefined && wanted < stored.first) {
    logger?.warn(
      { since: isoUtc(wanted), firstStored: isoUtc(stored.first) },
      `${where}: stored candles start at ${isoUtc(stored.first)}; the store is extended forward only, so earlier ` +
        'candles are not downloaded (download them into another datasets folder)',
    );
  }
  if (wanted !== undefined && wanted > next) {
    logger?.warn(
      { since: isoUtc(wanted), lastStored: isoUtc(stored.last) },
      `${where}: since is after the candle following the last stored one; the candles in between are not downloaded`,
    );
    return wanted;
  }
  return next;
}
