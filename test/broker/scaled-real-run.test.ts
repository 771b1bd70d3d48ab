import { describe, expect, it } from 'vitest';
import { brokerConfig } from '../../framework/broker/broker-config';
import { PaperBroker } from '../../framework/broker/paper-broker';
import type { Fill } from '../../framework/broker/types';
import { candleAt, type Candle } from '../../framework/core/candle';
import { Engine } from '../../framework/engine/engine';
import { replayCandles } from '../../framework/feeds/replay';
import { loadStrategy } from '../../framework/strategy/loader';
import { scalingRule } from '../support/scaling-rule';

const BTC_1H = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' } as const;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FEE = 0.001;
const STEP = 0.00001;
/** The shipped Binance BTC/USDT 1h candles (datasets/, 5,482 candles). */
const batch = replayCandles('datasets', BTC_1H);
const candles: Candle[] = Array.from({ length: batch.openTime.length }, (_, i) => candleAt(batch, i));

describe('PaperBroker scaled in and out on the shipped BTC/USDT 1h candles', () => {
  const broker = new PaperBroker(brokerConfig({ feeRate: FEE, slippageBps: 5, amountStep: STEP }));
  // An independent ledger, rebuilt from the fills alone: signed quantity and cash after each candle.
  let counted = 0;
  let quantity = 0;
  let cash = 10_000;
  const violations: string[] = [];
  const apply = (fills: readonly Fill[]): void => {
    for (; counted < fills.length; counted++) {
      const f = fills[counted]!;
      quantity += f.side === 'buy' ? f.quantity : -f.quantity;
      cash += f.side === 'buy' ? -(f.price * f.quantity + f.fee) : f.price * f.quantity - f.fee;
    }
  };
  candles.forEach((candle, i) => {
    broker.onCandle(candle);
    apply(broker.fills);
    const p = broker.position;
    const held = p === null ? 0 : p.side === 'long' ? p.quantity : -p.quantity;
    const marked = cash + quantity * candle.close;
    if (Math.abs(held - quantity) > 1e-9 || Math.abs(broker.equity - marked) > 1e-9 * Math.abs(marked)) {
      violations.push(`${new Date(candle.openTime).toISOString()}: equity ${broker.equity} vs cash ${cash} + ${quantity} × ${candle.close}`);
    }
    const signal = scalingRule(candles, i, broker.account);
    if (signal !== null) broker.submit(signal, candle);
  });
  broker.closeAll(candles.at(-1)!);
  apply(broker.fills);

  it('keeps equity = cash + signed quantity × close after every candle, both rebuilt from the fills alone', () => {
    expect(violations).toEqual([]);
    expect(broker.equityCurve.time).toHaveLength(candles.length);
    expect(quantity).toBeCloseTo(0, 12);
    expect(broker.equity).toBeCloseTo(cash, 6);
  });

  it('uses every order reason, on the lot-size grid', () => {
    const reasons = new Set(broker.fills.map((f) => f.reason));
    for (const r of ['entry', 'add', 'partial_exit', 'exit', 'reversal', 'stop_loss', 'take_profit', 'end_of_data']) {
      expect(reasons, r).toContain(r);
    }
    for (const f of broker.fills) expect(Math.abs(f.quantity / STEP - Math.round(f.quantity / STEP))).toBeLessThan(1e-6);
  });

  it('makes each trade the round trip of its fills: quantity, average prices, fees and pnl', () => {
    let at = 0;
    let total = 0;
    for (const t of broker.trades) {
      // The fills of this trade: from its first entry to the fill that made the position flat.
      const legs: Fill[] = [];
      let open = 0;
      do {
        const f = broker.fills[at++]!;
        legs.push(f);
        open += (t.side === 'long') === (f.side === 'buy') ? f.quantity : -f.quantity;
      } while (Math.abs(open) > 1e-12);
      const opening = legs.filter((f) => f.reason === 'entry' || f.reason === 'add');
      const closing = legs.filter((f) => !opening.includes(f));
      const entered = opening.reduce((s, f) => s + f.quantity, 0);
      const entryPrice = opening.reduce((s, f) => s + f.price * f.quantity, 0) / entered;
      const exitPrice = closing.reduce((s, f) => s + f.price * f.quantity, 0) / entered;
      const fees = legs.reduce((s, f) => s + f.fee, 0);
      const sign = t.side === 'long' ? 1 : -1;
      expect(t.entryTime).toBe(opening[0]!.time);
      expect(t.exitTime).toBe(closing.at(-1)!.time);
      expect(t.quantity).toBeCloseTo(entered, 9);
      expect(t.entryPrice).toBeCloseTo(entryPrice, 6);
      expect(t.exitPrice).toBeCloseTo(exitPrice, 6);
      expect(t.fees).toBeCloseTo(fees, 9);
      expect(t.pnl).toBeCloseTo(sign * entered * (exitPrice - entryPrice) - fees, 6);
      total += t.pnl;
    }
    expect(at).toBe(broker.fills.length);
    expect(broker.trades.some((t) => broker.fills.filter((f) => f.time >= t.entryTime && f.time <= t.exitTime).length > 3)).toBe(true);
    expect(broker.equity).toBeCloseTo(10_000 + total, 6);
  });
});

describe('strategies/dca.ts through the engine on the shipped BTC/USDT 1h candles', async () => {
  const { strategy, file } = await loadStrategy('strategies/dca.ts');
  const broker = new PaperBroker(brokerConfig({ feeRate: FEE }));
  await new Engine({ strategy, broker, file, subscription: BTC_1H }).replay(batch);
  const index = new Map(candles.map((c, i) => [c.openTime, i]));

  it('buys 100 USDT at the open after each 00:00 UTC candle, sized at that candle’s close', () => {
    const buys = broker.fills.filter((f) => f.side === 'buy');
    expect(buys.length).toBeGreaterThan(150);
    for (const f of buys) {
      const decided = candles[index.get(f.time)! - 1]!;
      expect(decided.openTime % DAY).toBe(0);
      expect(f.quantity).toBeCloseTo(100 / (decided.close * (1 + FEE)), 12); // amount / (close × (1 + fee))
      expect(f.price).toBe(candles[index.get(f.time)!]!.open);
    }
  });

  it('scales out half at 12:00 UTC checks, only when the close was above the average entry price × 1.1', () => {
    const sells = broker.fills.filter((f) => f.reason === 'partial_exit');
    expect(sells.length).toBeGreaterThan(0);
    for (const sell of sells) {
      const before = broker.fills.filter((f) => f.time < sell.time);
      let held = 0;
      let cost = 0; // the average entry price, recomputed from the buys since the position opened (exits keep it)
      for (const f of before) {
        if (f.side === 'buy') {
          cost += f.price * f.quantity;
          held += f.quantity;
        } else {
          cost -= (cost / held) * f.quantity;
          held -= f.quantity;
        }
      }
      const decided = candles[index.get(sell.time)! - 1]!;
      expect(decided.openTime % DAY).toBe(12 * HOUR);
      expect(decided.close).toBeGreaterThan((cost / held) * 1.1);
      expect(sell.quantity).toBeCloseTo(held / 2, 9);
    }
  });
});
