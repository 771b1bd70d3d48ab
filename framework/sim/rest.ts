/**
 * The simulator's REST side: the Binance spot market-data endpoints ccxt needs to load markets, read the server time
 * and page through klines.
 *
 * Served (all `GET`):
 * - `/api/v3/ping` → `{}` (weight 1);
 * - `/api/v3/time` → `{ "serverTime": <exchange clock> }` (weight 1);
 * - `/api/v3/exchangeInfo[?symbol=|symbols=]` → the simulated symbols (weight 20);
 * - `/api/v3/klines?symbol&interval[&startTime][&endTime][&limit]` → kline rows (weight 2).
 * The signed account endpoints (`/api/v3/account`, `/api/v3/order`, `/api/v3/openOrders`, `/api/v3/allOrders`,
 * `/api/v3/myTrades`) are answered by the {@link OrderDesk}, see `sim/orders`.
 * Anything else → HTTP 404 with a Binance-style error body naming the path. Every answer carries the
 * `x-mbx-used-weight` and `x-mbx-used-weight-1m` headers (weight used in the current real-time minute).
 *
 * Kline semantics (Binance's): rows whose open time is in [startTime, endTime], ascending; `limit` defaults to 500 and
 * is capped at 1000; with `startTime` the first `limit` rows from it, otherwise the last `limit` rows up to `endTime`
 * (or now). Only candles that exist at the exchange clock are served: the closed ones and the forming one, whose
 * values are those of the latest WebSocket frame of it. Errors: missing parameter −1102, non-numeric −1100, invalid
 * `limit` −1130, start after end −1023, unknown interval −1120, a symbol (or symbol at that interval) not simulated
 * −1121 "Invalid symbol.", all with HTTP 400.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BinanceError, KlineRow, RestAnswer } from './binance-format';
import { BINANCE_INTERVALS, ERRORS, exchangeInfoBody, klineRow } from './binance-format';
import type { FaultInjector } from './faults';
import type { OrderDesk } from './orders';
import { SIGNED_ENDPOINTS } from './orders';
import type { MarketTape } from './tape';
import { lowerBound, upperBound } from '../core/search';
import { klineAt, stepAt, visibleCount } from './tape';

/** What the REST handler needs from the simulator. */
export interface RestContext {
  readonly tapes: readonly MarketTape[];
  /** The signed account endpoints. */
  readonly desk: OrderDesk;
  /** Exchange time, after every event due has been emitted on the WebSocket side. */
  readonly now: () => number;
  readonly faults: FaultInjector;
}

/** One REST request as the simulator received and answered it (see `Simulator.requestLog`). */
export interface RestRequestRecord {
  /** Real time the request arrived, UTC epoch ms with sub-millisecond resolution (`performance` clock). */
  readonly receivedAt: number;
  /** The exchange clock when it arrived, UTC epoch ms. */
  readonly exchangeTime: number;
  /** E.g. `GET /api/v3/klines`. */
  readonly endpoint: string;
  /** HTTP status of the answer. */
  readonly status: number;
  /** The answer's `Retry-After` header, seconds (a 429), else null. */
  readonly retryAfterSec: number | null;
}

/**
 * Counts requests, and their weight per real-time minute as Binance's `x-mbx-used-weight-1m` does; keeps a record of
 * each (see {@link RestRequestRecord}).
 */
export class RequestMeter {
  private minute = -1;
  private used = 0;
  private count = 0;
  /** Every request answered so far, in order of arrival. */
  readonly log: RestRequestRecord[] = [];

  /** Counts a request of `weight` and returns the weight used in the current minute. */
  add(weight: number, nowMs: number = Date.now()): number {
    const minute = Math.floor(nowMs / 60_000);
    if (minute !== this.minute) {
      this.minute = minute;
      this.used = 0;
    }
    this.count += 1;
    this.used += weight;
    return this.used;
  }

  /** Requests counted so far. */
  requests(): number {
    return this.count;
  }
}

type Answer = RestAnswer;

const MAX_LIMIT = 1000;
const DEFAULT_LIMIT = 500;

/** Handles one HTTP request (REST faults first, then routing) and writes the answer. */
export function handleRest(req: IncomingMessage, res: ServerResponse, ctx: RestContext, meter: RequestMeter): void {
  const receivedAt = performance.timeOrigin + performance.now();
  const exchangeTime = ctx.now();
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const answer = route(req, Buffer.concat(chunks).toString('utf8'), ctx);
    const retryAfter = answer.headers?.['retry-after'];
    meter.log.push({
      receivedAt,
      exchangeTime,
      endpoint: `${req.method ?? 'GET'} ${new URL(req.url ?? '/', 'http://127.0.0.1').pathname}`,
      status: answer.status,
      retryAfterSec: retryAfter === undefined ? null : Number(retryAfter),
    });
    respond(res, answer, meter);
  });
}

function respond(res: ServerResponse, answer: Answer, meter: RequestMeter): void {
  const used = String(meter.add(answer.weight));
  const after = answer.answerAfterMs ?? 0;
  if (after === Infinity) return; // the orderTimeout fault: the answer never comes; stop() closes the socket
  if (after > 0) {
    setTimeout(() => write(res, answer, used), after).unref();
    return;
  }
  write(res, answer, used);
}

function write(res: ServerResponse, answer: Answer, used: string): void {
  if (res.destroyed) return;
  res.writeHead(answer.status, {
    'content-type': 'application/json;charset=UTF-8',
    'x-mbx-used-weight': used,
    'x-mbx-used-weight-1m': used,
    ...answer.headers,
  });
  res.end(JSON.stringify(answer.body));
}

function route(req: IncomingMessage, body: string, ctx: RestContext): Answer {
  const fault = ctx.faults.decideRequest();
  if (fault === 'rest429') {
    ctx.faults.record('rest429');
    return { status: 429, body: ERRORS.tooManyRequests, weight: 0, headers: { 'retry-after': String(ctx.faults.retryAfterSec()) } };
  }
  if (fault === 'rest500') {
    ctx.faults.record('rest500');
    return { status: 500, body: ERRORS.unknown, weight: 0 };
  }
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const endpoint = `${req.method ?? 'GET'} ${url.pathname}`;
  switch (endpoint) {
    case 'GET /api/v3/ping':
      return { status: 200, body: {}, weight: 1 };
    case 'GET /api/v3/time':
      return { status: 200, body: { serverTime: ctx.now() }, weight: 1 };
    case 'GET /api/v3/exchangeInfo':
      return exchangeInfo(url.searchParams, ctx);
    case 'GET /api/v3/klines':
      return klines(url.searchParams, ctx);
    default: {
      if (SIGNED_ENDPOINTS.includes(endpoint)) {
        const apiKey = req.headers['x-mbx-apikey'];
        const payload = body !== '' ? body : url.search.slice(1);
        return ctx.desk.handle(endpoint, typeof apiKey === 'string' ? apiKey : undefined, payload);
      }
      return {
        status: 404,
        weight: 1,
        body: {
          code: -1000,
          msg: `The simulator does not serve ${endpoint}; it serves GET /api/v3/ping, /api/v3/time, /api/v3/exchangeInfo, /api/v3/klines and ${SIGNED_ENDPOINTS.join(', ')}`,
        },
      };
    }
  }
}

function badRequest(error: BinanceError, weight: number): Answer {
  return { status: 400, body: error, weight };
}

function exchangeInfo(params: URLSearchParams, ctx: RestContext): Answer {
  const weight = 20;
  const one = params.get('symbol');
  const many = params.get('symbols');
  let wanted: string[] | null = null;
  if (one !== null) wanted = [one];
  else if (many !== null) {
    try {
      const parsed: unknown = JSON.parse(many);
      if (!Array.isArray(parsed) || !parsed.every((s) => typeof s === 'string')) return badRequest(ERRORS.invalidSymbol, weight);
      wanted = parsed;
    } catch {
      return badRequest(ERRORS.invalidSymbol, weight);
    }
  }
  const tapes = wanted === null ? ctx.tapes : ctx.tapes.filter((t) => wanted.includes(t.id));
  if (wanted !== null && !wanted.every((id) => ctx.tapes.some((t) => t.id === id))) {
    return badRequest(ERRORS.invalidSymbol, weight);
  }
  return { status: 200, body: exchangeInfoBody(tapes, ctx.now()), weight };
}

function klines(params: URLSearchParams, ctx: RestContext): Answer {
  const weight = 2;
  const symbol = params.get('symbol');
  const interval = params.get('interval');
  if (symbol === null || symbol === '') return badRequest(ERRORS.mandatory('symbol'), weight);
  if (interval === null || interval === '') return badRequest(ERRORS.mandatory('interval'), weight);
  const numbers: Record<'startTime' | 'endTime' | 'limit', number | undefined> = {
    startTime: undefined,
    endTime: undefined,
    limit: undefined,
  };
  for (const name of ['startTime', 'endTime', 'limit'] as const) {
    const text = params.get(name);
    if (text === null) continue;
    if (!/^[0-9]{1,20}$/.test(text)) return badRequest(ERRORS.illegalChars(name), weight);
    numbers[name] = Number(text);
  }
  const { startTime, endTime } = numbers;
  const limitParam = numbers.limit;
  if (limitParam === 0) return badRequest(ERRORS.invalidValue('limit'), weight);
  if (startTime !== undefined && endTime !== undefined && startTime > endTime) {
    return badRequest(ERRORS.startAfterEnd, weight);
  }
  if (!BINANCE_INTERVALS.includes(interval)) return badRequest(ERRORS.invalidInterval, weight);
  const tape = ctx.tapes.find((t) => t.id === symbol && t.timeframe === interval);
  if (tape === undefined) return badRequest(ERRORS.invalidSymbol, weight);
  const limit = Math.min(limitParam ?? DEFAULT_LIMIT, MAX_LIMIT);
  const now = ctx.now();
  const times = tape.candles.openTime;
  const visible = visibleCount(tape, now);
  const end = Math.min(visible, endTime === undefined ? visible : upperBound(times, endTime));
  let from: number;
  let to: number;
  if (startTime !== undefined) {
    from = lowerBound(times, startTime);
    to = Math.min(end, from + limit);
  } else {
    to = end;
    from = Math.max(0, to - limit);
  }
  const rows: KlineRow[] = [];
  let revised = 0;
  for (let i = from; i < to; i += 1) {
    const step = stepAt(tape, i, now);
    if (step === tape.updatesPerCandle && (tape.revisedVolume.has(i) || tape.revisedClose.has(i))) revised += 1;
    rows.push(klineRow(klineAt(tape, i, step, true)));
  }
  if (revised > 0) ctx.faults.record('revision', revised);
  if (rows.length > 0 && ctx.faults.decideRestRows()) {
    malformRow(rows[(rows.length - 1) >> 1]!);
    ctx.faults.record('restMalformed');
  }
  return { status: 200, body: rows, weight };
}

/** The `restMalformed` fault: swaps a row's high and low, so that high < low (low raised above high when equal). */
function malformRow(row: KlineRow): void {
  const [high, low] = [row[2], row[3]];
  row[2] = low;
  row[3] = high === low ? String(Number(high) * 1.01) : high;
}
