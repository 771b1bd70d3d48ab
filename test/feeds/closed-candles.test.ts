/**
 * ClosedCandleDetector on real candles (Binance BTC/USDT 1m, April–May 2021): stream updates as Binance sends them
 * (decimal strings, forming versions, the closed flag), REST answers as ccxt returns them.
 */
import { describe, expect, it } from 'vitest';
import type { StoredCandle } from '../../framework/core/candle';
import { ClosedCandleDetector, type CandleUpdate } from '../../framework/pipeline/closed-candles';
import type { RawCandle } from '../../framework/pipeline/normalize';
import { jsonRows, type Row } from '../store/source-data';
import { memoryLogger } from './support';

const TF = 60_000;
const ROWS = jsonRows('BTC_USDT-1m.json');
/** The 1m file's real gap: 284 minutes missing after 2021-04-25 04:00 (see SOURCES.md). */
const GAP_AT = ROWS.findIndex((r, i) => i > 0 && r[0] - ROWS[i - 1]![0] > TF);

function detector(lastEmittedOpenTime: number, logger = memoryLogger().logger): ClosedCandleDetector {
  return new ClosedCandleDetector({ timeframe: '1m', where: 'test BTC/USDT 1m', lastEmittedOpenTime, logger });
}

/** A Binance-style stream update of a real candle: strings with 8 decimals; forming = halfway through the candle. */
function streamUpdate(row: Row, closed: boolean, receivedAt = row[0] + TF): CandleUpdate {
  const [t, o, h, l, c, v] = row;
  const s = (x: number): string => x.toFixed(8);
  const candle = closed
    ? { openTime: t, open: s(o), high: s(h), low: s(l), close: s(o), volume: s(v) }
    : { openTime: t, open: s(o), high: s(Math.max(o, (o + h) / 2)), low: s(Math.min(o, (o + l) / 2)), close: s(o), volume: s(v / 2) };
  return { candle: closed ? { ...candle, close: s(c) } : candle, closed, source: 'websocket', receivedAt, frame: { k: candle } };
}

function restRows(rows: readonly Row[]): RawCandle[] {
  return rows.map(([openTime, open, high, low, close, volume]) => ({ openTime, open, high, low, close, volume }));
}

function values(c: StoredCandle): Row {
  return [c.openTime, c.open, c.high, c.low, c.close, c.volume];
}

describe('ClosedCandleDetector', () => {
  const rows = ROWS.slice(100, 130);

  it('emits a candle once its closing frame arrives, in order, never a forming version', () => {
    const d = detector(rows[0]![0]);
    const out: StoredCandle[] = [];
    for (const row of rows.slice(1)) {
      out.push(...d.update(streamUpdate(row, false)));
      out.push(...d.update(streamUpdate(row, false)));
      out.push(...d.update(streamUpdate(row, true)));
    }
    expect(out.map(values)).toEqual(rows.slice(1));
    expect(out.every((c) => c.source === 'websocket')).toBe(true);
  });

  it('holds a closed candle until the one before it is final, then emits both in order', () => {
    const d = detector(rows[0]![0]);
    expect(d.update(streamUpdate(rows[2]!, true))).toEqual([]);
    // rows[1] is known closed (a later candle started) but has no final version: it must be read over REST.
    expect(d.missingRange(rows[2]![0])).toEqual({ from: rows[1]![0], to: rows[1]![0] });
    const out = d.update(streamUpdate(rows[1]!, true));
    expect(out.map(values)).toEqual([rows[1], rows[2]]);
  });

  it('a lost closing frame is replaced by the REST version; the forming last REST row is not emitted', () => {
    const d = detector(rows[0]![0]);
    d.update(streamUpdate(rows[1]!, false)); // its closing frame never comes
    d.update(streamUpdate(rows[2]!, false));
    const range = d.missingRange(rows[2]![0]);
    expect(range).toEqual({ from: rows[1]![0], to: rows[1]![0] });
    const out = d.confirm({
      rows: restRows(rows.slice(1, 3)), // rows[2] is still forming on the exchange
      requestedFrom: range!.from,
      exchangeNow: rows[2]![0] + TF / 2,
      startedBefore: d.latestStartedOpenTime,
      receivedAt: rows[2]![0] + TF / 2,
    });
    expect(out.map(values)).toEqual([rows[1]]);
    expect(out[0]!.source).toBe('rest');
    expect(d.nextOpenTime).toBe(rows[2]![0]);
  });

  it('the exchange clock alone makes a candle due over REST once its close plus the grace has passed', () => {
    const d = detector(rows[0]![0]);
    const close = rows[1]![0] + TF;
    expect(d.missingRange(close)).toBeNull();
    expect(d.missingRange(close + 6_000)).toEqual({ from: rows[1]![0], to: rows[1]![0] });
  });

  it('drops repeated closing frames (counted) and reports a differing REST version of an emitted candle as a revision', () => {
    const d = detector(rows[0]![0]);
    const [first] = d.update(streamUpdate(rows[1]!, true));
    expect(d.update(streamUpdate(rows[1]!, true))).toEqual([]);
    expect(d.counts().duplicates).toBe(1);
    const [t, o, h, l, c, v] = rows[1]!;
    const revisedVolume = v * 1.25;
    d.confirm({
      rows: restRows([[t, o, h, l, c, revisedVolume], rows[2]!]),
      requestedFrom: t,
      exchangeNow: t + TF,
      startedBefore: d.latestStartedOpenTime,
      receivedAt: t + 2 * TF,
    });
    expect(d.counts().revisions).toBe(1);
    const [revision] = d.revisions;
    expect(revision).toMatchObject({ openTime: t, emitted: true });
    expect(revision!.accepted).toEqual(first);
    expect(revision!.revised.volume).toBe(revisedVolume);
    // The same REST version again is no news.
    d.confirm({ rows: restRows([[t, o, h, l, c, revisedVolume], rows[2]!]), requestedFrom: t, exchangeNow: t + TF, startedBefore: t + TF, receivedAt: t + 3 * TF });
    expect(d.counts().revisions).toBe(1);
  });

  it("skips the candles the exchange does not have (the file's real 284-minute gap) and reports them", () => {
    const before = ROWS[GAP_AT - 1]!;
    const after = ROWS.slice(GAP_AT, GAP_AT + 3);
    const missing = (after[0]![0] - before[0]) / TF - 1;
    expect(missing).toBe(284);
    const d = detector(before[0]);
    const out = d.confirm({
      rows: restRows(after),
      requestedFrom: before[0] + TF,
      exchangeNow: after[2]![0],
      startedBefore: Number.NEGATIVE_INFINITY,
      receivedAt: after[2]![0],
    });
    expect(out.map(values)).toEqual(after.slice(0, 2));
    expect(d.counts().absent).toEqual([{ start: before[0] + TF, end: after[0]![0] - TF, missing }]);
  });

  it('logs and counts invalid candles with their frame, and goes on', () => {
    const { logger, lines } = memoryLogger();
    const d = detector(rows[0]![0], logger);
    const good = streamUpdate(rows[1]!, true);
    const bad: CandleUpdate[] = [
      { ...good, candle: { ...good.candle, close: 'NaN' }, frame: 'frame-nan' },
      { ...good, candle: { ...good.candle, high: good.candle.low, low: good.candle.high }, frame: 'frame-swapped' },
      { ...good, candle: { ...good.candle, openTime: rows[1]![0] + TF / 2 }, frame: 'frame-misaligned' },
    ];
    for (const u of bad) expect(d.update(u)).toEqual([]);
    expect(d.counts().invalid).toBe(3);
    expect(lines.filter((l) => l['msg'] === 'invalid candle skipped').map((l) => l['frame'])).toEqual([
      'frame-nan',
      'frame-swapped',
      'frame-misaligned',
    ]);
    expect(d.update(good).map(values)).toEqual([rows[1]]);
  });
});
