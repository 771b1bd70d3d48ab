/**
 * The tape of one simulated market: its candles plus everything derived from them once, and the rules that turn a
 * candle into what the exchange shows while it forms and once it has closed.
 *
 * A candle `i` with open time `t` and timeframe length `tf` produces `U = updatesPerCandle` forming events at
 * `t + ⌊s·tf/U⌋` (step `s = 0 … U−1`) and a closing event at `t + tf`. At exchange time `T` the exchange shows every
 * event with time ≤ `T`: the candle is visible once `t ≤ T`, forming at the latest step reached, closed once
 * `t + tf ≤ T`. REST and WebSocket both derive from these rules, so they agree.
 *
 * @module
 */

import type { CandleBatch } from '../core/candle';
import { batchLength } from '../core/candle';
import type { Timeframe } from '../core/timeframe';
import { timeframeGrid, type TimeframeGrid } from '../core/timeframe';
import type { SimulatedMarket } from './config';
import type { Rng } from '../core/rng';
import { upperBound } from '../core/search';

/**
 * A kline as the exchange shows it at some instant: numbers, formatted to Binance's strings by `binance-format`.
 * Prices in the quote currency, volumes in the base currency, times in UTC epoch ms.
 * `trades`, `quoteVolume`, taker volumes and trade ids are synthetic (the datasets hold OHLCV only), derived
 * deterministically from the OHLCV values, see {@link klineAt}.
 */
export interface Kline {
  readonly openTime: number;
  /** `openTime + tf − 1`, as Binance reports it. */
  readonly closeTime: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly quoteVolume: number;
  readonly trades: number;
  readonly takerBuyBase: number;
  readonly takerBuyQuote: number;
  /** First trade id in the candle, −1 when it has no trade. */
  readonly firstTradeId: number;
  /** Last trade id in the candle, −1 when it has no trade. */
  readonly lastTradeId: number;
  /** Whether the candle has closed (Binance's `"x"`). */
  readonly closed: boolean;
}

/** Precomputed data of one simulated market. Treat as read-only. */
export interface MarketTape {
  /** Unified symbol, e.g. `BTC/USDT`. */
  readonly symbol: string;
  /** Binance symbol id, e.g. `BTCUSDT`. */
  readonly id: string;
  readonly base: string;
  readonly quote: string;
  /** Binance interval, e.g. `15m` (the same notation as the framework's timeframes). */
  readonly timeframe: Timeframe;
  /** Where its candles open and close (see `core/timeframe`). */
  readonly grid: TimeframeGrid;
  /** A typical candle length in ms (the grid's `nominalMs`), which sizes stalls and misaligned frames. */
  readonly tfMs: number;
  /** Binance stream name of its klines, e.g. `btcusdt@kline_15m`. */
  readonly streamName: string;
  /** The market's candles; `Simulator.endData` may cut them short after the exchange's now (never a visible one). */
  candles: CandleBatch;
  /** Forming frames per candle (`U`). */
  readonly updatesPerCandle: number;
  /** Decimal places of the prices in `candles` (at most 8): the tick size is 10^−priceDecimals. */
  readonly priceDecimals: number;
  /** Decimal places of the volumes in `candles` (at most 8): the lot step is 10^−volumeDecimals. */
  readonly volumeDecimals: number;
  /** Synthetic trade count of each candle. */
  readonly trades: Float64Array;
  /** Id of each candle's first trade: 1 + trades of all earlier candles. */
  readonly firstTradeId: Float64Array;
  /** Candle index → the volume REST reports once the candle has closed (the `revision` fault). */
  readonly revisedVolume: ReadonlyMap<number, number>;
  /**
   * Candle index → the close REST reports once the candle has closed (`revision.closes`, or planted while running by
   * `Simulator.reviseClose`); high/low widen to hold it.
   */
  readonly revisedClose: Map<number, number>;
}

/** How revisions are chosen for a tape; see `FaultConfig.revision`. */
export interface RevisionPlan {
  readonly rate: number;
  readonly openTimes: ReadonlySet<number>;
  readonly volumeFactor: number;
  /** Open time → the revised close REST reports for that candle. */
  readonly closes: ReadonlyMap<number, number>;
  /** Only candles closing after this exchange time are revised by `rate`. */
  readonly after: number;
  readonly rng: Rng;
}

/** Builds the tape of `market` with `updatesPerCandle` forming frames per candle and the given revisions. */
export function buildTape(market: SimulatedMarket, updatesPerCandle: number, revision: RevisionPlan): MarketTape {
  const [base = '', quote = ''] = market.symbol.split('/');
  const c = market.candles;
  const n = batchLength(c);
  const grid = timeframeGrid(market.timeframe);
  const priceDecimals = Math.max(maxDecimals(c.open), maxDecimals(c.high), maxDecimals(c.low), maxDecimals(c.close));
  const volumeDecimals = maxDecimals(c.volume);
  const trades = new Float64Array(n);
  const firstTradeId = new Float64Array(n);
  let nextTradeId = 1;
  for (let i = 0; i < n; i += 1) {
    trades[i] = tradeCount(c.volume[i]!);
    firstTradeId[i] = nextTradeId;
    nextTradeId += trades[i]!;
  }
  const revisedVolume = new Map<number, number>();
  for (let i = 0; i < n; i += 1) {
    const t = c.openTime[i]!;
    const byRate = grid.nextOpen(t) > revision.after && revision.rng() < revision.rate;
    if (byRate || revision.openTimes.has(t)) {
      const v = c.volume[i]!;
      const step = 10 ** -volumeDecimals;
      const revised = roundTo(v * revision.volumeFactor, volumeDecimals);
      revisedVolume.set(i, revised === v ? roundTo(v + step, volumeDecimals) : revised);
    }
  }
  const revisedClose = new Map<number, number>();
  for (let i = 0; i < n; i += 1) {
    const close = revision.closes.get(c.openTime[i]!);
    if (close !== undefined) revisedClose.set(i, close);
  }
  const id = `${base}${quote}`;
  return {
    symbol: market.symbol,
    id,
    base,
    quote,
    timeframe: market.timeframe,
    grid,
    tfMs: grid.nominalMs,
    streamName: `${id.toLowerCase()}@kline_${market.timeframe}`,
    candles: c,
    updatesPerCandle,
    priceDecimals,
    volumeDecimals,
    trades,
    firstTradeId,
    revisedVolume,
    revisedClose,
  };
}

/**
 * Exchange time of event `step` of candle `i`: forming steps `0 … U−1` at `t + ⌊step·tf/U⌋`, the close (`step = U`)
 * at `t + tf`.
 */
export function eventTime(tape: MarketTape, i: number, step: number): number {
  const t = tape.candles.openTime[i]!;
  const u = tape.updatesPerCandle;
  const close = tape.grid.nextOpen(t);
  return step >= u ? close : t + Math.floor((step * (close - t)) / u);
}

/** Number of candles visible at exchange time `now` (open time ≤ `now`); they are the first ones of the tape. */
export function visibleCount(tape: MarketTape, now: number): number {
  return upperBound(tape.candles.openTime, now);
}

/** The latest event step of candle `i` reached at `now` (`U` = closed), or −1 if the candle has not opened. */
export function stepAt(tape: MarketTape, i: number, now: number): number {
  for (let step = tape.updatesPerCandle; step >= 0; step -= 1) {
    if (eventTime(tape, i, step) <= now) return step;
  }
  return -1;
}

/**
 * Candle `i` as shown after its event `step`.
 *
 * Forming (`step < U`): a progressive reveal of the final candle with fraction `f = (step+1)/(U+1)`: open fixed,
 * close = open + (close − open)·f, high/low = the extremes of open, that close and open + (high|low − open)·f, volume
 * = volume·f (prices rounded to the market's tick, volumes to its lot step). High never decreases, low never increases,
 * volume never decreases across steps, and all stay within the final candle's range.
 *
 * Closed (`step = U`): the final candle, with the revised volume when `rest` is true and the candle is revised
 * (the WebSocket always carries the original).
 *
 * Synthetic fields: trades = 0 for zero volume, else max(1, round(√volume·100)), scaled by `f` while forming;
 * quote volume = volume × (open+high+low+close)/4; taker-buy base = half the volume; trade ids count up from 1 over
 * the dataset.
 */
export function klineAt(tape: MarketTape, i: number, step: number, rest: boolean): Kline {
  const c = tape.candles;
  const u = tape.updatesPerCandle;
  const open = c.open[i]!;
  const closed = step >= u;
  const f = closed ? 1 : (step + 1) / (u + 1);
  const p = (x: number): number => roundTo(x, tape.priceDecimals);
  const revisedClose = closed && rest ? tape.revisedClose.get(i) : undefined;
  const close = revisedClose ?? (closed ? c.close[i]! : p(open + (c.close[i]! - open) * f));
  const high = closed ? Math.max(c.high[i]!, close) : Math.max(open, close, p(open + (c.high[i]! - open) * f));
  const low = closed ? Math.min(c.low[i]!, close) : Math.min(open, close, p(open + (c.low[i]! - open) * f));
  const revised = closed && rest ? tape.revisedVolume.get(i) : undefined;
  const volume = revised ?? (closed ? c.volume[i]! : roundTo(c.volume[i]! * f, tape.volumeDecimals));
  const allTrades = tape.trades[i]!;
  const trades = volume === 0 ? 0 : closed ? allTrades : Math.max(1, Math.floor(allTrades * f));
  const typical = (open + high + low + close) / 4;
  const takerBuyBase = roundTo(volume / 2, tape.volumeDecimals);
  const firstTradeId = trades === 0 ? -1 : tape.firstTradeId[i]!;
  return {
    openTime: c.openTime[i]!,
    closeTime: tape.grid.nextOpen(c.openTime[i]!) - 1,
    open,
    high,
    low,
    close,
    volume,
    quoteVolume: volume * typical,
    trades,
    takerBuyBase,
    takerBuyQuote: takerBuyBase * typical,
    firstTradeId,
    lastTradeId: trades === 0 ? -1 : firstTradeId + trades - 1,
    closed,
  };
}

function tradeCount(volume: number): number {
  return volume === 0 ? 0 : Math.max(1, Math.round(Math.sqrt(volume) * 100));
}

function roundTo(x: number, decimals: number): number {
  return Number(x.toFixed(decimals));
}

/**
 * Largest number of decimal places (capped at 8) among `values`, from their shortest round-trip representation
 * (`String(x)`). A value that rounds to itself at the decimals found so far (`round(x·10^d) / 10^d === x`: a d-decimal
 * string reads back as `x`, so the shortest one has at most d decimals) cannot raise them and is not formatted; on the
 * shipped candles that skips all but a few values, 18 times faster than formatting each.
 */
function maxDecimals(values: Float64Array): number {
  let best = 0;
  let scale = 1;
  for (const x of values) {
    if (best === 8) break;
    if (Math.round(x * scale) / scale === x) continue;
    best = Math.max(best, Math.min(8, decimalsOf(x)));
    scale = 10 ** best;
  }
  return best;
}

/** Decimal places of `x`'s shortest round-trip representation (`String(x)`, exponent notation included). */
function decimalsOf(x: number): number {
  const text = String(x);
  const exp = text.indexOf('e-');
  const dot = text.indexOf('.');
  const mantissaDecimals = dot < 0 ? 0 : (exp < 0 ? text.length : exp) - dot - 1;
  return exp < 0 ? mantissaDecimals : mantissaDecimals + Number(text.slice(exp + 2));
}
