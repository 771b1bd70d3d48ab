/**
 * The simulator's spot account on loopback, reached through real ccxt, for the reconciliation tests: real BTC/USDT 1h
 * candles from the shipped dataset, the exchange clock stopped at {@link START} (speed 0), 10,000 USDT on the account.
 * Every simulator and exchange a test sets up is closed when that test finishes.
 */
import type { Exchange } from 'ccxt';
import { onTestFinished } from 'vitest';
import { createExchange } from '../../framework/feeds/live/exchange';
import { replayCandles } from '../../framework/feeds/replay';
import type { FaultConfig } from '../../framework/sim/config';
import { startSimulator, type Simulator } from '../../framework/sim/simulator';

const H1 = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' } as const;
const CANDLES = replayCandles('datasets', H1);
/** The simulator's exchange time (UTC epoch ms): its clock stays there. */
export const START = Date.UTC(2021, 2, 1, 10, 30);

/** Starts the simulator with an account for `key` (and market-data/order `faults`), and a ccxt binance on it with markets loaded. */
export async function simAccount(key: { readonly apiKey: string; readonly secret: string }, faults: FaultConfig = {}): Promise<{ sim: Simulator; ex: Exchange }> {
  const sim = await startSimulator({
    markets: [{ symbol: H1.symbol, timeframe: H1.timeframe, candles: CANDLES }],
    startTime: START,
    speed: 0,
    faults,
    account: { ...key, balances: { USDT: 10_000 } },
  });
  onTestFinished(() => sim.stop());
  const ex = createExchange('binance', { urls: sim, enableRateLimit: false, credentials: key }) as unknown as Exchange;
  onTestFinished(async () => void (await ex.close()));
  await ex.loadMarkets();
  return { sim, ex };
}
