/**
 * Paging through an exchange's candle history over ccxt REST (`fetchOHLCV`), one page at a time, each page run
 * through the candle pipeline.
 *
 * @module
 */
import type { Exchange, OHLCV } from 'ccxt';
import { batchLength, sliceBatch, type CandleBatch } from '../core/candle';
import { FrameworkError, messageOf } from '../core/errors';
import type { Logger } from '../core/logger';
import { describeSubscription, type Subscription } from '../core/subscription';
import { isoUtc } from '../core/time';
import { timeframeGrid } from '../core/timeframe';
import { callWithRetry, DEFAULT_BACKOFF, isTemporary, type BackoffPolicy, type RetryCounters } from '../feeds/live/retry';
import { rawCandleFromOhlcv } from '../pipeline/normalize';
import { processCandles, type Rejection } from '../pipeline/pipeline';
import { lowerBound } from '../core/search';

/**
 * A download that cannot go on: an unknown market, no start time for a new dataset, or an exchange error that is not
 * temporary (a bad symbol, an unsupported timeframe). Candles stored before it stay stored.
 */
export class DownloadError extends FrameworkError {}

/** Candles per page by default: Binance spot's maximum for `GET /api/v3/klines`. */
export const DEFAULT_PAGE_LIMIT = 1000;

/** Tries per REST request of a download before it gives up: 5 (waits of about 0.5, 1, 2 and 4 s between them). */
export const DEFAULT_ATTEMPTS = 5;

/**
 * Options of {@link fetchCandlePages}.
 * - `exchange`: a ccxt exchange (its rate limiter, `enableRateLimit`, paces the requests);
 * - `subscription`: which candles;
 * - `from`, `to`: open times in UTC epoch ms, `from` inclusive, `to` exclusive; `to` should not exceed the open time
 *   of the candle forming on the exchange, so that every candle read is closed;
 * - `pageLimit`: candles asked per request (default {@link DEFAULT_PAGE_LIMIT});
 * - `backoff`: waits between retries of a failed request (default 500 ms doubling to 30 s);
 * - `attempts`: tries per request before giving up (default {@link DEFAULT_ATTEMPTS});
 * - `signal`: stops the paging (before the next request, or during a retry wait);
 * - `counters`: where retries and rate-limit waits are counted;
 * - `logger`: retries are logged at `warn`, each request at `debug`.
 */
export interface FetchCandlePagesOptions {
  readonly exchange: Exchange;
  readonly subscription: Subscription;
  readonly from: number;
  readonly to: number;
  readonly pageLimit?: number;
  readonly backoff?: BackoffPolicy;
  readonly attempts?: number;
  readonly signal?: AbortSignal;
  readonly counters?: RetryCounters;
  readonly logger?: Logger;
}

/**
 * One page of candles.
 * - `requestedFrom`: the open time asked for (UTC epoch ms);
 * - `candles`: the pipeline's output (valid, sorted by open time, one per open time) restricted to `[from, to)`,
 *   with source `rest` and `receivedAt` the local clock (`Date.now()`, UTC epoch ms) when the page arrived;
 * - `rejected`: rows the pipeline dropped (reasons name the page);
 * - `duplicates`: rows dropped because a later row had the same open time;
 * - `outside`: valid rows outside `[from, to)` (e.g. a forming candle an exchange sent anyway);
 * - `next`: where the following page starts (the open time after the last row of this page).
 */
export interface CandlePage {
  readonly requestedFrom: number;
  readonly candles: CandleBatch;
  readonly rejected: readonly Rejection[];
  readonly duplicates: number;
  readonly outside: number;
  readonly next: number;
}

/**
 * Reads the candles of `[from, to)` page by page: each request asks for `pageLimit` candles from the open time after
 * the last row of the previous page (ccxt's `since`), with ccxt's unified `until` param set to `to − 1` so that the
 * exchange sends nothing later. Paging ends when `to` is reached or a page holds no row in range (the exchange has no
 * later candle). Temporary failures (network errors, HTTP 5xx, HTTP 429/418) are retried with backoff and the
 * exchange's `Retry-After` (see `callWithRetry`), so a page is yielded only once it has been read.
 *
 * Pages are yielded one at a time: the consumer handles (e.g. stores) a page before the next request is made.
 *
 * @throws {@link DownloadError} when a request fails with an error that is not temporary (the message names the
 *   subscription and the page's start), or when the exchange answers with rows before the start asked for (it does
 *   not page by `since`). Ends without error when `signal` aborts.
 * @throws `InvalidTimeframeError` for a bad timeframe.
 */
export async function* fetchCandlePages(options: FetchCandlePagesOptions): AsyncGenerator<CandlePage, void, undefined> {
  const { exchange, subscription, to, signal, logger } = options;
  const grid = timeframeGrid(subscription.timeframe);
  const limit = options.pageLimit ?? DEFAULT_PAGE_LIMIT;
  const where = describeSubscription(subscription);
  const aborted = (): boolean => signal?.aborted === true;
  for (let from = options.from; from < to; ) {
    if (aborted()) return;
    const what = `fetchOHLCV ${where} from ${isoUtc(from)}`;
    logger?.debug({ from: isoUtc(from), limit }, what);
    let rows: OHLCV[];
    try {
      rows = await callWithRetry(
        () => exchange.fetchOHLCV(subscription.symbol, subscription.timeframe, from, limit, { until: to - 1 }),
        {
          what,
          backoff: options.backoff ?? DEFAULT_BACKOFF,
          maxAttempts: options.attempts ?? DEFAULT_ATTEMPTS,
          responseHeaders: () => exchange.last_response_headers,
          ...(signal !== undefined && { signal }),
          ...(options.counters !== undefined && { counters: options.counters }),
          ...(logger !== undefined && { logger }),
        },
      );
    } catch (error) {
      if (aborted()) return;
      throw new DownloadError(`${what} failed${triesOf(error, options.attempts)}: ${messageOf(error)}`, { cause: error });
    }
    const receivedAt = Date.now();
    const openTimes = rows.map((row) => Number(row[0])).filter((t) => Number.isFinite(t) && t < to);
    const lastRow = openTimes.length === 0 ? Number.NaN : Math.max(...openTimes);
    if (!(lastRow >= from)) return;
    if (Math.min(...openTimes) < from) {
      throw new DownloadError(
        `${what}: the exchange answered with candles from ${isoUtc(Math.min(...openTimes))}, before the start asked for; ` +
          'it does not page by start time',
      );
    }
    const next = grid.nextOpen(grid.bucketStart(lastRow));
    const result = processCandles(rows.map((row) => rawCandleFromOhlcv(row, { source: 'rest', receivedAt })), subscription.timeframe, {
      where: `${where} REST page from ${isoUtc(from)}`,
      defaultSource: 'rest',
    });
    const times = result.candles.openTime;
    const start = lowerBound(times, from);
    const end = lowerBound(times, to);
    yield {
      requestedFrom: from,
      candles: sliceBatch(result.candles, start, end),
      rejected: result.rejected,
      duplicates: result.duplicates,
      outside: batchLength(result.candles) - (end - start),
      next,
    };
    from = next;
  }
}

/** ` after N tries` when `error` is a temporary failure that was retried until the attempts ran out, else nothing. */
export function triesOf(error: unknown, attempts: number = DEFAULT_ATTEMPTS): string {
  return isTemporary(error) ? ` after ${attempts} tries` : '';
}
