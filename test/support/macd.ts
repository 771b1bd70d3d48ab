import { MACD } from 'technicalindicators';

/** MACD columns aligned with the candles: entry `i` belongs to candle `i`, NaN where not defined yet. */
export interface ReferenceMacd {
  readonly macd: number[];
  readonly signal: number[];
  readonly histogram: number[];
}

/**
 * MACD 12/26/9 with exponential averages (the parameters of `strategies/macd.ts`), computed here straight from
 * technicalindicators, independently of the framework, for tests to compare with.
 */
export function referenceMacd(closes: readonly number[]): ReferenceMacd {
  const out = MACD.calculate({
    values: [...closes],
    fastPeriod: 12,
    slowPeriod: 26,
    signalPeriod: 9,
    SimpleMAOscillator: false,
    SimpleMASignal: false,
  });
  const pad = Array<number>(closes.length - out.length).fill(Number.NaN);
  return {
    macd: [...pad, ...out.map((m) => m.MACD ?? Number.NaN)],
    signal: [...pad, ...out.map((m) => m.signal ?? Number.NaN)],
    histogram: [...pad, ...out.map((m) => m.histogram ?? Number.NaN)],
  };
}
