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

/** |clock − simulator| against the clock's bound, sampled now (the two reads are microseconds apart). */
function offBy(clock: ExchangeClock): { error: number; bound: number } {
  const estimate = clock.now();
  const truth = sim.clock();
  return { error: Math.abs(estimate - truth), bound: clock.errorBoundMs() + SPEED /* the simulator floors to 1 ms */ };
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
      for (let i = 0; i < 5; i++) {
        const { error, bound } = offBy(clock);
        expect(error).toBeLessThanOrEqual(bound);
        await pause(20);
      }
      // The offset itself: exchange time minus local time at the sync.
      const trueOffset = sim.clock() - localNow();
      const estimatedOffset = clock.now() - localNow();
      expect(Math.abs(estimatedOffset - trueOffset)).toBeLessThanOrEqual(clock.errorBoundMs() + SPEED);
    });
  }

  it('with the rate given, one sync suffices', async () => {
    const clock = new ExchangeClock({ fetchTime: async () => Number(await exchange.fetchTime()), rate: SPEED, samples: 7 });
    const estimate = await clock.sync();
    expect(estimate.rate).toBe(SPEED);
    expect(estimate.rateError).toBe(0);
    for (let i = 0; i < 5; i++) {
      const { error, bound } = offBy(clock);
      expect(error).toBeLessThanOrEqual(bound);
      await pause(20);
    }
  });

  it('says it has no estimate before the first sync', () => {
    const clock = new ExchangeClock({ fetchTime: async () => Number(await exchange.fetchTime()) });
    expect(() => clock.now()).toThrow(/has not been synced yet/);
  });
});
