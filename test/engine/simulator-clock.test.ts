import { describe, expect, it } from 'vitest';
import { resumedExchangeTime } from '../../framework/connector/dataset-simulator';
import { simulatorHistoryStart } from '../../framework/engine/simulator-clock';

describe('the history start of a new run on the simulator', () => {
  it('is 1,000 candles of the longest timeframe before the candle of now', () => {
    // 2021-06-01 00:07 is in the 1h candle of 00:00; 1,000 h before it = 41 days 16 h: 2021-04-20 08:00.
    expect(simulatorHistoryStart(Date.UTC(2021, 5, 1, 0, 7), ['15m', '1h'], 355)).toBe(Date.UTC(2021, 3, 20, 8));
  });

  it("or the strategy's warm-up when longer", () => {
    // 1,500 × 15m = 375 h = 15 days 15 h before 2021-06-01 00:00: 2021-05-16 09:00.
    expect(simulatorHistoryStart(Date.UTC(2021, 5, 1, 0, 7), ['15m'], 1_500)).toBe(Date.UTC(2021, 4, 16, 9));
  });
});

describe('the clock of a restarted simulator', () => {
  const last = { exchangeTime: Date.UTC(2021, 2, 1, 6), realTime: 1_000 };

  it('resumes after the last reading plus the real downtime at the speed', () => {
    // Down 2 s of real time at 600 exchange ms per real ms: 20 minutes later on the exchange.
    expect(resumedExchangeTime(last, 3_000, 600, Date.UTC(2021, 6, 31))).toBe(Date.UTC(2021, 2, 1, 6, 20));
  });

  it('resumes at the last reading when the downtime would run past the data', () => {
    expect(resumedExchangeTime(last, 3_000, 600, Date.UTC(2021, 2, 1, 6, 15))).toBe(last.exchangeTime);
  });
});
