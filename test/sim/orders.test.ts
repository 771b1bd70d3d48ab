import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExchange } from '../../framework/feeds/live/exchange';
import { replayCandles } from '../../framework/feeds/replay';
import { startSimulator, type Simulator } from '../../framework/sim/simulator';

const H1 = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' } as const;
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({
    markets: [{ symbol: H1.symbol, timeframe: H1.timeframe, candles: replayCandles('datasets', H1) }],
    startTime: Date.UTC(2021, 2, 1, 10, 30),
    speed: 0,
    account: { apiKey: 'good-key', secret: 'good-secret' },
  });
});
afterAll(() => sim.stop());

async function order(apiKey: string, secret: string) {
  const exchange = createExchange('binance', { urls: sim, enableRateLimit: false, credentials: { apiKey, secret } });
  try {
    await exchange.loadMarkets();
    return await exchange.createOrder('BTC/USDT', 'market', 'buy', 0.01);
  } finally {
    await exchange.close();
  }
}

describe('the simulator\'s signed POST /api/v3/order, through real ccxt', () => {
  it('fills a correctly signed market order at the forming candle\'s price', async () => {
    const filled = await order('good-key', 'good-secret');
    expect(filled.status).toBe('closed');
    expect(filled.filled).toBe(0.01);
    const candles = replayCandles('datasets', H1, { from: Date.UTC(2021, 2, 1, 10), to: Date.UTC(2021, 2, 1, 11) });
    expect(filled.average).toBeGreaterThanOrEqual(candles.low[0]!);
    expect(filled.average).toBeLessThanOrEqual(candles.high[0]!);
    expect(sim.orders.at(-1)).toMatchObject({ side: 'BUY', quantity: 0.01, symbol: 'BTCUSDT' });
  });

  it('refuses a wrong key and a wrong signature as Binance does', async () => {
    const before = sim.orders.length;
    await expect(order('bad-key', 'good-secret')).rejects.toThrow('"code":-2014');
    await expect(order('good-key', 'bad-secret')).rejects.toThrow('"code":-1022');
    expect(sim.orders.length).toBe(before);
  });
});
