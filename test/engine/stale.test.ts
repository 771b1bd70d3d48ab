/** The stale rule on hand-computed cases (see `staleReason`). */
import { describe, expect, it } from 'vitest';
import { timeframeGrid } from '../../framework/core/timeframe';
import { checkStaleAfter, staleReason } from '../../framework/engine/stale';

const MINUTE = 60_000;
const M1 = timeframeGrid('1m');

describe('staleReason', () => {
  // A 1m candle opening 2021-04-21 02:00 closes at 02:01:00.000; with a limit of 1 it may arrive until 02:02:00.000.
  const open = Date.UTC(2021, 3, 21, 2, 0);

  it('lets a candle arriving up to the limit after its close be traded', () => {
    expect(staleReason(open, M1, Date.UTC(2021, 3, 21, 2, 1, 0, 1), 1)).toBeNull(); // 1 ms after the close
    expect(staleReason(open, M1, Date.UTC(2021, 3, 21, 2, 2), 1)).toBeNull(); // exactly one timeframe: not more
  });

  it('holds a candle arriving more than the limit after its close, saying when it arrived', () => {
    // 02:02:00.001 − 02:01:00.000 = 60,001 ms = 1.0000167 timeframes.
    expect(staleReason(open, M1, Date.UTC(2021, 3, 21, 2, 2, 0, 1), 1)).toBe(
      'stale: arrived 2021-04-21T02:02:00.001Z, 1.00 timeframes after its close at 2021-04-21T02:01:00.000Z (limit 1)',
    );
    // The case: a 5m candle of 07:45 (closed 07:50) backfilled at 10:45: 2 h 55 min = 10,500,000 ms = 35 × 5m.
    expect(staleReason(Date.UTC(2021, 3, 21, 7, 45), timeframeGrid('5m'), Date.UTC(2021, 3, 21, 10, 45), 1)).toBe(
      'stale: arrived 2021-04-21T10:45:00.000Z, 35.00 timeframes after its close at 2021-04-21T07:50:00.000Z (limit 1)',
    );
    // A limit of 3: 3.5 timeframes late is stale, 3 is not.
    expect(staleReason(open, M1, open + MINUTE + 3.5 * MINUTE, 3)).toMatch(/, 3\.50 timeframes after .* \(limit 3\)$/);
    expect(staleReason(open, M1, open + MINUTE + 3 * MINUTE, 3)).toBeNull();
  });

  it('counts calendar months (1M) by their own lengths, not by a nominal month of 30.42 days', () => {
    const month = timeframeGrid('1M');
    // January 2021 closes 2021-02-01 00:00; February has 28 days, so with a limit of 1 it may arrive until 2021-03-01
    // 00:00. A nominal month (365 / 12 = 30.42 days) would put its close at 2021-01-31 10:00 and keep it fresh until
    // 2021-03-02 20:00.
    const january = Date.UTC(2021, 0, 1);
    expect(staleReason(january, month, Date.UTC(2021, 2, 1), 1)).toBeNull();
    expect(staleReason(january, month, Date.UTC(2021, 2, 1, 0, 0, 0, 1), 1)).toMatch(/, 1\.00 timeframes after its close at 2021-02-01T00:00:00\.000Z \(limit 1\)$/);
    // 2021-03-15 00:00: one whole month (February) and 14 of March's 31 days after the close: 1 + 14/31 = 1.4516.
    expect(staleReason(january, month, Date.UTC(2021, 2, 15), 1)).toBe(
      'stale: arrived 2021-03-15T00:00:00.000Z, 1.45 timeframes after its close at 2021-02-01T00:00:00.000Z (limit 1)',
    );
    // February 2021 closes 2021-03-01; March has 31 days: 30.5 days later (2021-03-31 12:00) is still within one
    // timeframe (a nominal month would call it stale), 2021-04-01 00:00:00.001 is not.
    const february = Date.UTC(2021, 1, 1);
    expect(staleReason(february, month, Date.UTC(2021, 2, 31, 12), 1)).toBeNull();
    expect(staleReason(february, month, Date.UTC(2021, 3, 1), 1)).toBeNull();
    expect(staleReason(february, month, Date.UTC(2021, 3, 1, 0, 0, 0, 1), 1)).not.toBeNull();
    // Half a timeframe: half of March, 15.5 days, from the close.
    expect(staleReason(february, month, Date.UTC(2021, 2, 16, 12), 0.5)).toBeNull();
    expect(staleReason(february, month, Date.UTC(2021, 2, 16, 12, 0, 0, 1), 0.5)).not.toBeNull();
  });

  it('never holds a candle when the rule is off', () => {
    expect(staleReason(open, M1, open + 1_000 * MINUTE, Number.POSITIVE_INFINITY)).toBeNull();
    expect(staleReason(Date.UTC(2021, 0, 1), timeframeGrid('1M'), Date.UTC(2031, 0, 1), Number.POSITIVE_INFINITY)).toBeNull();
  });
});

describe('checkStaleAfter', () => {
  it('accepts a positive number of timeframes and refuses anything else, saying what is allowed', () => {
    expect(checkStaleAfter(1)).toBe(1);
    expect(checkStaleAfter(0.5)).toBe(0.5);
    expect(checkStaleAfter(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    for (const bad of [0, -1, Number.NaN]) {
      expect(() => checkStaleAfter(bad)).toThrow(
        `stale-after ${bad}: expected a positive number of timeframes (e.g. 1, 0.5, 3; Infinity turns the rule off)`,
      );
    }
  });
});
