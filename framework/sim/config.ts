/**
 * Configuration of the exchange simulator: which markets it plays, from when, how fast, and which faults it injects.
 *
 * @module
 */

import type { CandleBatch } from '../core/candle';
import { batchLength } from '../core/candle';
import { FrameworkError, InvalidCandleError } from '../core/errors';
import type { Timeframe } from '../core/timeframe';
import { timeframeGrid } from '../core/timeframe';
import type { SimulatorAccount } from './account';

/**
 * A simulator configuration that cannot be used (bad speed, unknown timeframe, fault rate out of range, ...).
 * The message names the offending field.
 */
export class SimulatorConfigError extends FrameworkError {}

/** One market the simulator plays: its candles are the exchange's "truth" for `symbol` at `timeframe`. */
export interface SimulatedMarket {
  /** Unified ccxt symbol, `BASE/QUOTE`, e.g. `BTC/USDT`; the Binance id is `BTCUSDT`. */
  readonly symbol: string;
  /** One of the Binance kline intervals the simulator supports, see {@link SUPPORTED_INTERVALS}. */
  readonly timeframe: Timeframe;
  /**
   * The candles, sorted by open time, unique, aligned to the timeframe, with consistent OHLC and volume ≥ 0.
   * They are served as Binance's 8-decimal strings, so a value with more decimals (e.g. float noise left by summing
   * volumes when resampling) reaches clients rounded to 8 decimals.
   */
  readonly candles: CandleBatch;
}

/**
 * When a fault fires. Each opportunity (a kline frame about to be delivered on one WebSocket connection, or one REST
 * request) is counted per fault type, 1-based, over the simulator's lifetime.
 *
 * - `rate`: probability in [0, 1] that the fault fires at an opportunity, drawn from a seeded RNG (deterministic
 *   for a given `seed` and sequence of opportunities);
 * - `nth`: opportunity ordinals at which the fault fires for sure (e.g. `[5]` = the 5th frame delivered).
 */
export interface FaultTrigger {
  readonly rate?: number;
  readonly nth?: readonly number[];
}

/**
 * Ways a kline frame can be malformed:
 * - `json`: the frame's text is cut in half (not parseable JSON);
 * - `nan`: the kline's close is the string `"NaN"`;
 * - `highBelowLow`: the kline's high and low are swapped (high < low unless they are equal);
 * - `misaligned`: the kline's open time `t` is shifted by half a timeframe (not a multiple of the timeframe).
 */
export type MalformedKind = 'json' | 'nan' | 'highBelowLow' | 'misaligned';

/** All {@link MalformedKind}s, in the order they are cycled through. */
export const MALFORMED_KINDS: readonly MalformedKind[] = ['json', 'nan', 'highBelowLow', 'misaligned'];

/**
 * Fault injection. WebSocket faults act on kline frame deliveries, REST faults on REST requests (any endpoint).
 *
 * - `drop`: instead of the frame, the server destroys the TCP connection (no close frame);
 * - `stall`: the frame and every frame for the next `durationMs` of exchange time are not sent to that connection;
 *   the socket stays open (default duration: 3 timeframes of the market whose frame triggered it);
 * - `duplicate`: the frame is sent twice;
 * - `outOfOrder`: the frame is held back and sent right after the next frame on that connection;
 * - `malformed`: the frame is replaced by a malformed one; kinds are used in turn (default: all of them);
 * - `rest429`: HTTP 429 with a `Retry-After` header (seconds, default 1) and Binance's error body (code -1003; ccxt
 *   raises `DDoSProtection`);
 * - `rest500`: HTTP 500 with Binance's error body (code -1000; ccxt raises `OperationFailed`);
 * - `restMalformed`: one row of a kline REST answer (the middle one; an opportunity is each answer with rows) is
 *   invalid: its high and low swapped, so high < low (a row an exchange API sends corrupted once; a later read of
 *   the same candle is valid);
 * - `revision`: closed candles whose REST version differs from what the WebSocket sent (volume multiplied by
 *   `volumeFactor`, default 1.25): each candle closing after `startTime` is revised with probability `rate`, plus every
 *   candle whose open time is listed in `openTimes`; and each candle listed in `closes` gets that close over REST
 *   (high and low widened to hold it), e.g. to plant a revision that changes a price. See
 *   {@link "sim/simulator"!SimulatorRevision | SimulatorRevision}.
 *
 * Faults on the order path (signed requests; each `POST /api/v3/order` that passed the signature check is one
 * opportunity of `orderReject`, `orderTimeout` and `orderPartial`, each signed request one of `order429`):
 * - `orderReject`: the order is refused, nothing executes: HTTP 400, −2010 "Order rejected (simulator fault
 *   orderReject)." (ccxt raises `InvalidOrder`);
 * - `orderTimeout`: accept-then-timeout, the ambiguous case: the order executes and is stored, but its answer is
 *   withheld for `answerAfterMs` real ms (default: never sent; the client's own timeout fires, ccxt raises
 *   `RequestTimeout`). `GET /api/v3/order?origClientOrderId=` finds it;
 * - `orderPartial`: a MARKET order fills only `fillFraction` (default 0.5) of its quantity, rounded down to the lot
 *   step, and the rest expires: status `EXPIRED` with `executedQty < origQty`, as Binance answers when the book runs
 *   out of liquidity;
 * - `order429`: HTTP 429 with `Retry-After` (`retryAfterSec`, default 1) and −1003, before anything executes.
 */
export interface FaultConfig {
  readonly drop?: FaultTrigger;
  readonly stall?: FaultTrigger & { readonly durationMs?: number };
  readonly duplicate?: FaultTrigger;
  readonly outOfOrder?: FaultTrigger;
  readonly malformed?: FaultTrigger & { readonly kinds?: readonly MalformedKind[] };
  readonly rest429?: FaultTrigger & { readonly retryAfterSec?: number };
  readonly rest500?: FaultTrigger;
  readonly orderReject?: FaultTrigger;
  readonly orderTimeout?: FaultTrigger & { readonly answerAfterMs?: number };
  readonly orderPartial?: FaultTrigger & { readonly fillFraction?: number };
  readonly order429?: FaultTrigger & { readonly retryAfterSec?: number };
  readonly restMalformed?: FaultTrigger;
  readonly revision?: {
    readonly rate?: number;
    readonly openTimes?: readonly number[];
    readonly volumeFactor?: number;
    readonly closes?: readonly { readonly openTime: number; readonly close: number }[];
  };
}

/** The fault types, as counted in the simulator's stats. */
export type FaultKind = keyof FaultConfig;

/** All {@link FaultKind}s. */
export const FAULT_KINDS: readonly FaultKind[] = [
  'drop',
  'stall',
  'duplicate',
  'outOfOrder',
  'malformed',
  'rest429',
  'rest500',
  'restMalformed',
  'revision',
  'orderReject',
  'orderTimeout',
  'orderPartial',
  'order429',
];

/**
 * Configuration of {@link "sim/simulator"!startSimulator | startSimulator}.
 *
 * The exchange clock is `startTime + (realNow − realStart) × speed` (UTC epoch ms). `speed = 0` freezes it: time then
 * moves only through `Simulator.advanceTo`, the step mode for tests. Candles that closed at or before `startTime`
 * (open time + timeframe ≤ `startTime`) are history, served over REST; the rest are played as the clock passes them.
 */
export interface SimulatorConfig {
  /** Interface to listen on; only loopback is supported. Default `127.0.0.1`. */
  readonly host?: '127.0.0.1';
  /** TCP port; 0 (default) picks a free ephemeral port. */
  readonly port?: number;
  /** The markets played; symbol + timeframe pairs must be unique. */
  readonly markets: readonly SimulatedMarket[];
  /** Exchange time when the simulator starts, UTC epoch ms. */
  readonly startTime: number;
  /** Exchange ms per real ms (60 plays a 15m candle in 15 s); 0 = manual clock. */
  readonly speed: number;
  /** WebSocket frames of a forming candle (`"x": false`) per candle, before the closing one. Default 3. */
  readonly updatesPerCandle?: number;
  /** Faults to inject; none by default. */
  readonly faults?: FaultConfig;
  /**
   * The spot account signed requests trade (balances, orders, fills; see `sim/account`), with the API key and secret
   * they must be signed with. Without it every signed endpoint answers −2015.
   */
  readonly account?: SimulatorAccount;
  /** Seed of every random choice (fault rates, revisions). Default 1. */
  readonly seed?: number;
}

/**
 * Binance spot kline intervals the simulator plays, on Binance's grid (see `core/timeframe`: `3d` as Binance, `1w` on
 * Mondays, `1M` calendar months). Binance's `1s` is not supported (the framework's timeframes start at minutes).
 */
export const SUPPORTED_INTERVALS: readonly Timeframe[] = [
  '1m',
  '3m',
  '5m',
  '15m',
  '30m',
  '1h',
  '2h',
  '4h',
  '6h',
  '8h',
  '12h',
  '1d',
  '3d',
  '1w',
  '1M',
];

/**
 * Checks a configuration and throws on the first problem.
 *
 * @throws {@link SimulatorConfigError} for a bad field (names it); {@link InvalidCandleError} for a candle that is
 *   unsorted, duplicated, misaligned, non-finite or inconsistent (names the market and the row).
 */
export function validateConfig(config: SimulatorConfig): void {
  const fail = (message: string): never => {
    throw new SimulatorConfigError(`simulator config: ${message}`);
  };
  if (config.host !== undefined && config.host !== '127.0.0.1') fail(`host must be "127.0.0.1", got "${String(config.host)}"`);
  const port = config.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`port must be an integer in [0, 65535], got ${port}`);
  if (!Number.isFinite(config.startTime)) fail(`startTime must be UTC epoch ms, got ${config.startTime}`);
  if (!Number.isFinite(config.speed) || config.speed < 0) fail(`speed must be ≥ 0 (0 = manual clock), got ${config.speed}`);
  const updates = config.updatesPerCandle ?? 3;
  if (!Number.isInteger(updates) || updates < 1) fail(`updatesPerCandle must be an integer ≥ 1, got ${updates}`);
  if (config.seed !== undefined && !Number.isInteger(config.seed)) fail(`seed must be an integer, got ${config.seed}`);
  if (config.markets.length === 0) fail('markets is empty: give at least one { symbol, timeframe, candles }');
  const seen = new Set<string>();
  config.markets.forEach((m, i) => {
    if (!/^[A-Z0-9]+\/[A-Z0-9]+$/.test(m.symbol)) fail(`markets[${i}].symbol must look like "BTC/USDT", got "${m.symbol}"`);
    if (!SUPPORTED_INTERVALS.includes(m.timeframe)) {
      fail(`markets[${i}].timeframe "${m.timeframe}" is not supported; use one of ${SUPPORTED_INTERVALS.join(', ')}`);
    }
    const key = `${m.symbol} ${m.timeframe}`;
    if (seen.has(key)) fail(`markets[${i}]: ${key} is configured twice`);
    seen.add(key);
    validateCandles(m);
  });
  validateFaults(config.faults ?? {}, fail);
  if (config.account !== undefined) validateAccount(config.account, fail);
}

function validateAccount(account: SimulatorAccount, fail: (message: string) => never): void {
  if (account.apiKey === '' || account.secret === '') fail('account.apiKey and account.secret must be non-empty');
  for (const [asset, amount] of Object.entries(account.balances ?? {})) {
    if (!/^[A-Z0-9]+$/.test(asset)) fail(`account.balances: asset "${asset}" must be upper-case letters and digits, e.g. USDT`);
    if (!(Number.isFinite(amount) && amount >= 0)) fail(`account.balances.${asset} must be a finite amount ≥ 0, got ${amount}`);
  }
  const commission = account.commission;
  if (commission !== undefined && !(commission >= 0 && commission < 0.1)) {
    fail(`account.commission is a fraction in [0, 0.1) (0.001 = 0.1%), got ${commission}`);
  }
  const scope = account.clientOrderIdScope;
  if (scope !== undefined && scope !== 'open' && scope !== 'all') fail(`account.clientOrderIdScope must be "open" or "all", got "${String(scope)}"`);
}

function validateCandles(market: SimulatedMarket): void {
  const b = market.candles;
  const grid = timeframeGrid(market.timeframe);
  const where = (i: number): string => `${market.symbol} ${market.timeframe} candle #${i} (open time ${b.openTime[i]})`;
  for (let i = 0; i < batchLength(b); i += 1) {
    const t = b.openTime[i]!;
    const [o, h, l, c, v] = [b.open[i]!, b.high[i]!, b.low[i]!, b.close[i]!, b.volume[i]!];
    if (![t, o, h, l, c, v].every(Number.isFinite)) throw new InvalidCandleError(`${where(i)}: non-finite value`);
    if (!grid.isAligned(t)) throw new InvalidCandleError(`${where(i)}: open time not aligned to ${market.timeframe} (its candles open ${grid.rule})`);
    if (i > 0 && t <= b.openTime[i - 1]!) throw new InvalidCandleError(`${where(i)}: open times not strictly increasing`);
    if (h < Math.max(o, c) || l > Math.min(o, c)) throw new InvalidCandleError(`${where(i)}: high/low inconsistent`);
    if (v < 0) throw new InvalidCandleError(`${where(i)}: negative volume`);
  }
}

function validateFaults(faults: FaultConfig, fail: (message: string) => never): void {
  const triggers: [string, FaultTrigger | undefined][] = [
    ['drop', faults.drop],
    ['stall', faults.stall],
    ['duplicate', faults.duplicate],
    ['outOfOrder', faults.outOfOrder],
    ['malformed', faults.malformed],
    ['rest429', faults.rest429],
    ['rest500', faults.rest500],
    ['orderReject', faults.orderReject],
    ['orderTimeout', faults.orderTimeout],
    ['orderPartial', faults.orderPartial],
    ['order429', faults.order429],
    ['restMalformed', faults.restMalformed],
  ];
  for (const [name, t] of triggers) {
    if (t === undefined) continue;
    if (t.rate !== undefined && !(t.rate >= 0 && t.rate <= 1)) fail(`faults.${name}.rate must be in [0, 1], got ${t.rate}`);
    for (const n of t.nth ?? []) {
      if (!Number.isInteger(n) || n < 1) fail(`faults.${name}.nth must hold integers ≥ 1, got ${n}`);
    }
  }
  const stallMs = faults.stall?.durationMs;
  if (stallMs !== undefined && !(stallMs > 0)) fail(`faults.stall.durationMs must be > 0 (exchange ms), got ${stallMs}`);
  const retryAfter = faults.rest429?.retryAfterSec;
  if (retryAfter !== undefined && !(Number.isInteger(retryAfter) && retryAfter >= 0)) {
    fail(`faults.rest429.retryAfterSec must be an integer ≥ 0, got ${retryAfter}`);
  }
  const orderRetryAfter = faults.order429?.retryAfterSec;
  if (orderRetryAfter !== undefined && !(Number.isInteger(orderRetryAfter) && orderRetryAfter >= 0)) {
    fail(`faults.order429.retryAfterSec must be an integer ≥ 0, got ${orderRetryAfter}`);
  }
  const answerAfter = faults.orderTimeout?.answerAfterMs;
  if (answerAfter !== undefined && !(Number.isFinite(answerAfter) && answerAfter >= 0)) {
    fail(`faults.orderTimeout.answerAfterMs must be real ms ≥ 0 (omit it to never answer), got ${answerAfter}`);
  }
  const fillFraction = faults.orderPartial?.fillFraction;
  if (fillFraction !== undefined && !(fillFraction > 0 && fillFraction < 1)) {
    fail(`faults.orderPartial.fillFraction must be in (0, 1), got ${fillFraction}`);
  }
  const kinds = faults.malformed?.kinds;
  if (kinds !== undefined) {
    if (kinds.length === 0) fail('faults.malformed.kinds is empty; omit it to use all kinds');
    for (const k of kinds) if (!MALFORMED_KINDS.includes(k)) fail(`faults.malformed.kinds: unknown kind "${k}"`);
  }
  const revision = faults.revision;
  if (revision !== undefined) {
    const { rate, volumeFactor, openTimes } = revision;
    if (rate !== undefined && !(rate >= 0 && rate <= 1)) fail(`faults.revision.rate must be in [0, 1], got ${rate}`);
    if (volumeFactor !== undefined && !(volumeFactor > 0 && volumeFactor !== 1)) {
      fail(`faults.revision.volumeFactor must be > 0 and ≠ 1, got ${volumeFactor}`);
    }
    for (const t of openTimes ?? []) if (!Number.isFinite(t)) fail(`faults.revision.openTimes holds ${t}`);
    for (const { openTime, close } of revision.closes ?? []) {
      if (!Number.isFinite(openTime) || !(close > 0)) fail(`faults.revision.closes holds { openTime: ${openTime}, close: ${close} }`);
    }
  }
}
