import { describe, expect, it } from 'vitest';
import { InvalidTimeframeError } from '../../framework/core/errors';
import { describeGap, findGaps, type Gap } from '../../framework/pipeline/gaps';
import { loadRows, utc } from './realData';

const MINUTE = 60_000;
const FIVE = 5 * MINUTE;
const HOUR = 60 * MINUTE;

/** The maintenance gaps of the 5m files as SOURCES.md lists them: the last candle before each, and how many are missing. */
const SOURCES_5M_GAPS: readonly [after: number, missing: number][] = [
  [utc(2020, 12, 21, 14, 5), 46],
  [utc(2020, 12, 25, 1, 55), 12],
  [utc(2021, 2, 11, 3, 40), 15],
  [utc(2021, 3, 6, 1, 55), 18],
  [utc(2021, 4, 20, 1, 55), 30],
  [utc(2021, 4, 25, 4, 0), 56],
];

function gapAfter(after: number, missing: number, length: number): Gap {
  return { start: after + length, end: after + missing * length, missing };
}

function openTimes(file: string): Float64Array {
  return Float64Array.from(loadRows(file), ([t]) => t);
}

describe('findGaps on the real maintenance gaps', () => {
  it.each(['BTC_USDT-5m.json', 'ETH_USDT-5m.json'])('finds exactly the six listed gaps in %s', (file) => {
    expect(findGaps(openTimes(file), '5m')).toEqual(SOURCES_5M_GAPS.map(([after, n]) => gapAfter(after, n, FIVE)));
  });

  it.each(['BTC_USDT-1h.json', 'ETH_USDT-1h.json'])('finds the matching gaps in %s', (file) => {
    // An hour is missing from the 1h file when all twelve of its 5m candles fall inside a 5m gap.
    const missingHours = new Set<number>();
    for (const [after, n] of SOURCES_5M_GAPS) {
      const first = after + FIVE;
      const last = after + n * FIVE;
      for (let hour = Math.ceil(first / HOUR) * HOUR; hour + HOUR - FIVE <= last; hour += HOUR) missingHours.add(hour);
    }
    const expected: Gap[] = [];
    for (const hour of [...missingHours].sort((a, b) => a - b)) {
      const previous = expected.at(-1);
      if (previous !== undefined && previous.end + HOUR === hour) {
        expected[expected.length - 1] = { ...previous, end: hour, missing: previous.missing + 1 };
      } else {
        expected.push({ start: hour, end: hour, missing: 1 });
      }
    }
    expect(expected.map((g) => g.missing)).toEqual([3, 1, 1, 1, 2, 3]);
    expect(findGaps(openTimes(file), '1h')).toEqual(expected);
  });

  it("finds the 1m file's 284-minute gap at 2021-04-25 04:00", () => {
    expect(findGaps(openTimes('BTC_USDT-1m.json'), '1m')).toEqual([gapAfter(utc(2021, 4, 25, 4, 0), 284, MINUTE)]);
  });
});

describe('findGaps on small series', () => {
  it('finds nothing in a continuous series or a short one', () => {
    expect(findGaps(Float64Array.of(0, FIVE, 2 * FIVE), '5m')).toEqual([]);
    expect(findGaps(Float64Array.of(FIVE), '5m')).toEqual([]);
    expect(findGaps(new Float64Array(0), '5m')).toEqual([]);
  });

  it('finds a single missing candle', () => {
    expect(findGaps(Float64Array.of(0, 2 * FIVE), '5m')).toEqual([{ start: FIVE, end: FIVE, missing: 1 }]);
  });

  it('throws on an invalid timeframe', () => {
    expect(() => findGaps(Float64Array.of(0), '5')).toThrow(InvalidTimeframeError);
  });
});

describe('describeGap', () => {
  it('names the count and the open times of the first and last missing candle', () => {
    expect(describeGap(gapAfter(utc(2020, 12, 21, 14, 5), 46, FIVE))).toBe(
      '46 candles missing from 2020-12-21T14:10:00.000Z to 2020-12-21T17:55:00.000Z',
    );
    expect(describeGap({ start: utc(2020, 12, 25, 2), end: utc(2020, 12, 25, 2), missing: 1 })).toBe(
      '1 candle missing at 2020-12-25T02:00:00.000Z',
    );
  });
});
