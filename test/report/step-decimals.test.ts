import { describe, expect, it } from 'vitest';
import { stepDecimals } from '../../framework/report/html/sections';

describe('stepDecimals (quantities in the trades table)', () => {
  it('gives the decimals of the market lot step, else Binance’s finest 8', () => {
    expect(stepDecimals(0.00001)).toBe(5); // Binance BTC/USDT LOT_SIZE stepSize
    expect(stepDecimals(0.0001)).toBe(4); // Binance ETH/USDT
    expect(stepDecimals(0.5)).toBe(1);
    expect(stepDecimals(1)).toBe(0);
    expect(stepDecimals(1e-10)).toBe(8);
    expect(stepDecimals(undefined)).toBe(8);
  });
});
