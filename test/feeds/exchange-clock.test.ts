/**
 * ExchangeClock against the simulator's accelerated exchange clock, through real ccxt `fetchTime()` calls on
 * loopback: the estimate stays within its own stated error bound of the simulator's true time, with a correct local
 * clock, a local clock one hour ahead, and a local clock that runs 2% fast.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExchange } from '../../framework/feeds/live/exchange';
import type { BinanceKlineTap } from '../../framework/feeds/live/binance-tap';
import { ExchangeClock } from '../../framework/feeds/live/exchange-clock';
import { startSimulator, type Simulator } from '../../framework/sim/simulator';
import { BTC_5M, dataset, START } from './support';

const SPEED = 600;
let sim: Simulator;
let exchange: BinanceKlineTap;

beforeAll(async () => {
  sim = await startSimulator({
    markets: [{ symbol: BTC_5M.symbol, timeframe: BTC_5M.timeframe, candles: dataset() }],
    startTime: START,
    speed: SPEED,
  });
  exchange = createExchange('binance', { urls: sim, enableRateLimit: false });
  await exchange.loadMarkets();
});

afterAll(async () => {
  await exchange.close();
  await sim.stop();
});

const realNow = (): number => performance.timeOrigin + performance.now();
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * How far the clock's estimate lies outside its own bound around the simulator's true time (0 when within): the true
 * time is read just before and just after the estimate, so a pause of this process between the reads (a loaded
 * machine: over 1 ms at load 25, 600 exchange ms here) widens the bracket instead of counting as the clock's error.
 * The bound is read after the estimate (it only grows with time); 1 ms for the simulator flooring its clock.
 */
function outsideBound(clock: ExchangeClock): number {
  const before = sim.clock();
  const estimate = clock.now();
  const bound = clock.errorBoundMs() + 1;
  const after = sim.clock();
  return Math.max(0, before - bound - estimate, estimate - (after + bound));
}

describe('ExchangeClock', () => {
  const cases: [string, () => number][] = [
    ['a correct local clock', realNow],
    ['a local clock one hour ahead', () => realNow() + 3_600_000],
    ['a local clock running 2% fast', (() => { const t0 = realNow(); return () => t0 + (realNow() - t0) * 1.02; })()],
  ];

  for (const [name, localNow] of cases) {
    it(`estimates the offset within its bound with ${name} (rate measured)`, async () => {
      const clock = new ExchangeClock({ fetchTime: async () => Number(await exchange.fetchTime()), localNow, rate: 'estimate' });
      await clock.sync();
      await pause(150);
      const estimate = await clock.sync();
      // The measured rate (exchange ms per local ms) is the simulator's speed over the local clock's own rate.
      const localRate = name.includes('2% fast') ? 1.02 : 1;
      expect(Math.abs(estimate.rate - SPEED / localRate)).toBeLessThanOrEqual(estimate.rateError);
      // Within its bound at any time after the sync, whatever the local clock's offset or rate.
      for (let i = 0; i < 5; i++) {
        expect(outsideBound(clock)).toBe(0);
        await pause(20);
      }
    });
  }

  it('with the rate given, one sync suffices', async () => {
    const clock = new ExchangeClock({ fetchTime: async () => Number(await exchange.fetchTime()), rate: SPEED, samples: 7 });
    const estimate = await clock.sync();
    expect(estimate.rate).toBe(SPEED);
    expect(estimate.rateError).toBe(0);
    for (let i = 0; i < 5; i++) {
      expect(outsideBound(clock)).toBe(0);
      await pause(20);
    }
  });

  it('says it has no estimate before the first sync', () => {
    const clock = new ExchangeClock({ fetchTime: async () => Number(await exchange.fetchTime()) });
    expect(() => clock.now()).toThrow(/has not been synced yet/);
  });
});
