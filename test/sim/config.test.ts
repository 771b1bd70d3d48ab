import { describe, expect, it } from 'vitest';
import { sliceBatch } from '../../framework/core/candle';
import { InvalidCandleError } from '../../framework/core/errors';
import { SimulatorConfigError } from '../../framework/sim/config';
import type { SimulatorConfig } from '../../framework/sim/config';
import { startSimulator } from '../../framework/sim/simulator';
import { readRows, rowsToBatch } from './fixtures';

const ROWS = readRows('BTC_USDT-1h.json');
const START = Date.UTC(2021, 0, 1);

function config(overrides: Partial<SimulatorConfig>): SimulatorConfig {
  return { markets: [{ symbol: 'BTC/USDT', timeframe: '1h', candles: rowsToBatch(ROWS) }], startTime: START, speed: 0, ...overrides };
}

describe('simulator configuration errors', () => {
  it('rejects bad fields with a typed error naming the field', async () => {
    await expect(startSimulator(config({ speed: -1 }))).rejects.toThrow(SimulatorConfigError);
    await expect(startSimulator(config({ speed: -1 }))).rejects.toThrow(/speed/);
    await expect(startSimulator(config({ updatesPerCandle: 0 }))).rejects.toThrow(/updatesPerCandle/);
    await expect(startSimulator(config({ markets: [] }))).rejects.toThrow(/markets/);
    await expect(startSimulator(config({ faults: { drop: { rate: 2 } } }))).rejects.toThrow(/faults\.drop\.rate/);
    await expect(startSimulator(config({ faults: { revision: { openTimes: [START + 1] } } }))).rejects.toThrow(
      /openTimes/,
    );
    const seconds = { symbol: 'BTC/USDT', timeframe: '1s', candles: rowsToBatch(ROWS) };
    await expect(startSimulator(config({ markets: [seconds] }))).rejects.toThrow(/"1s" is not supported/);
    // Hourly candles are not weekly ones: the 1w grid opens on Mondays only.
    const weekly = { symbol: 'BTC/USDT', timeframe: '1w', candles: rowsToBatch(ROWS) };
    await expect(startSimulator(config({ markets: [weekly] }))).rejects.toThrow(/not aligned to 1w \(its candles open on Mondays/);
    const noSlash = { symbol: 'BTCUSDT', timeframe: '1h', candles: rowsToBatch(ROWS) };
    await expect(startSimulator(config({ markets: [noSlash] }))).rejects.toThrow(/BTC\/USDT/);
  });

  it('rejects a bad account or order-path fault, naming the field', async () => {
    const account = { apiKey: 'k', secret: 's' };
    await expect(startSimulator(config({ account: { ...account, balances: { USDT: -1 } } }))).rejects.toThrow(/account\.balances\.USDT must be a finite amount ≥ 0/);
    await expect(startSimulator(config({ account: { ...account, balances: { usdt: 1 } } }))).rejects.toThrow(/asset "usdt"/);
    await expect(startSimulator(config({ account: { ...account, commission: 0.5 } }))).rejects.toThrow(/account\.commission/);
    await expect(startSimulator(config({ account: { ...account, secret: '' } }))).rejects.toThrow(/account\.apiKey and account\.secret/);
    await expect(startSimulator(config({ faults: { orderPartial: { nth: [1], fillFraction: 1 } } }))).rejects.toThrow(/faults\.orderPartial\.fillFraction/);
    await expect(startSimulator(config({ faults: { order429: { nth: [0] } } }))).rejects.toThrow(/faults\.order429\.nth/);
    await expect(startSimulator(config({ faults: { orderTimeout: { answerAfterMs: -5 } } }))).rejects.toThrow(/faults\.orderTimeout\.answerAfterMs/);
  });

  it('rejects unsorted, duplicated or misaligned candles with InvalidCandleError naming the row', async () => {
    const reversed = rowsToBatch([...ROWS.slice(0, 10)].reverse());
    const unsorted = { symbol: 'BTC/USDT', timeframe: '1h', candles: reversed };
    await expect(startSimulator(config({ markets: [unsorted] }))).rejects.toThrow(InvalidCandleError);
    await expect(startSimulator(config({ markets: [unsorted] }))).rejects.toThrow(/BTC\/USDT 1h candle #1/);
    const misaligned = { symbol: 'BTC/USDT', timeframe: '4h', candles: sliceBatch(rowsToBatch(ROWS), 1, 5) };
    await expect(startSimulator(config({ markets: [misaligned] }))).rejects.toThrow(/not aligned to 4h/);
  });

  it('refuses to move the clock backwards', async () => {
    const sim = await startSimulator(config({}));
    try {
      expect(() => sim.advanceTo(START - 1)).toThrow(SimulatorConfigError);
      expect(() => sim.waitForSubscribers('ETH/USDT', '1h')).toThrow(/not a simulated market/);
      sim.advanceTo(START + 1);
      expect(sim.clock()).toBe(START + 1);
    } finally {
      await sim.stop();
    }
  });
});
