import { describe, expect, it } from 'vitest';
import { brokerConfig } from '../../framework/broker/broker-config';
import { PaperBroker } from '../../framework/broker/paper-broker';
import type { Candle } from '../../framework/core/candle';
import type { Signal } from '../../framework/strategy/signal';
import { loadJsonCandles } from '../support/shared-data';

/** Binance BTC/USDT 1h candles, [open time ms, open, high, low, close, volume] rows (see ../shared/data/SOURCES.md). */
const candles: Candle[] = loadJsonCandles('BTC_USDT-1h.json');

const STOP = 0.02;
const TARGET = 0.04;
const SLIP = 5 / 10_000;
const FEE = 0.001;

/** Two rising closes → long, two falling → short (reverses a long), exit after 5 candles held. */
function rule(i: number, held: number | null, side: 'long' | 'short' | null): Signal | null {
  if (i < 2) return null;
  const [a, b, x] = [candles[i - 2]!.close, candles[i - 1]!.close, candles[i]!.close];
  if (side !== null && held !== null && held >= 5) return { action: side === 'long' ? 'exit_long' : 'exit_short' };
  if (x > b && b > a) return { action: 'enter_long', stopLoss: STOP, takeProfit: TARGET, tag: 'up2' };
  if (x < b && b < a) return { action: 'enter_short', stopLoss: STOP, tag: 'down2' };
  return null;
}

describe('PaperBroker on BTC/USDT 1h (5,482 real candles)', () => {
  const broker = new PaperBroker(brokerConfig({ feeRate: FEE, slippageBps: SLIP * 10_000, stake: { fraction: 0.5 } }));
  const byTime = new Map(candles.map((c, i) => [c.openTime, i]));
  const acceptedEntries: number[] = []; // open times of the candles whose close decided an accepted entry
  const sizedAt = new Map<number, number>(); // decision open time → the entry quantity the sizing rule gives
  const violations: string[] = [];

  candles.forEach((candle, i) => {
    broker.onCandle(candle);
    const p = broker.position;
    const marked = p === null ? 0 : (p.side === 'long' ? 1 : -1) * p.quantity * candle.close;
    if (Math.abs(broker.equity - (broker.cash + marked)) > 1e-9 * Math.abs(broker.equity)) {
      violations.push(`${candle.openTime}: equity ${broker.equity} ≠ cash ${broker.cash} + ${marked}`);
    }
    const held = p === null ? null : i - byTime.get(p.openedAt)!;
    const signal = rule(i, held, p?.side ?? null);
    const equity = broker.equity; // marked at this close, before the signal
    if (signal !== null && broker.submit(signal, candle).acted && signal.action.startsWith('enter')) {
      acceptedEntries.push(candle.openTime);
      // Orders are sized when decided: half the equity marked at this close, notional + fee
      sizedAt.set(candle.openTime, (0.5 * equity) / (candle.close * (1 + FEE)));
    }
  });
  const last = candles.at(-1)!;
  broker.closeAll(last);

  it('keeps equity = cash + marked position value at every candle', () => {
    expect(violations).toEqual([]);
    const curve = broker.equityCurve;
    expect(curve.time).toHaveLength(candles.length);
    for (let i = 0; i < candles.length; i++) {
      expect(curve.time[i]).toBe(candles[i]!.openTime);
      expect(curve.equity[i]).toBe(curve.cash[i]! + curve.positionValue[i]!);
    }
  });

  it('trades a lot, and the cash ledger adds up: final equity = initial cash + Σ trade pnl', () => {
    const trades = broker.trades;
    expect(trades.length).toBeGreaterThan(300);
    expect(new Set(trades.map((t) => t.exitReason))).toEqual(new Set(['signal', 'stop_loss', 'take_profit', 'reversal', 'end_of_data']));
    expect(broker.fills).toHaveLength(2 * trades.length);
    const sum = trades.reduce((s, t) => s + t.pnl, 0);
    expect(broker.equity).toBeCloseTo(10_000 + sum, 6);
    expect(broker.position).toBeNull();
    expect(broker.ignoredSignals.some((s) => s.reason === 'already long')).toBe(true);
  });

  it('fills every entry at the open after the deciding candle, with adverse slippage, sized at the deciding close', () => {
    const entries = broker.fills.filter((f) => f.reason === 'entry');
    expect(entries.map((f) => byTime.get(f.time)! - 1)).toEqual(acceptedEntries.map((t) => byTime.get(t)!));
    for (const f of entries) expect(f.quantity).toBeCloseTo(sizedAt.get(candles[byTime.get(f.time)! - 1]!.openTime)!, 9);
    for (const f of entries) {
      const open = candles[byTime.get(f.time)!]!.open;
      expect(f.price).toBeCloseTo(f.side === 'buy' ? open * (1 + SLIP) : open * (1 - SLIP), 6);
    }
  });

  it('books each trade consistently: pnl, fees and exits at stop (or a gap open) / target', () => {
    for (const t of broker.trades) {
      const sign = t.side === 'long' ? 1 : -1;
      const fees = FEE * t.quantity * (t.entryPrice + t.exitPrice);
      expect(t.fees).toBeCloseTo(fees, 6);
      expect(t.pnl).toBeCloseTo(sign * t.quantity * (t.exitPrice - t.entryPrice) - fees, 6);
      const candle = candles[byTime.get(t.exitTime)!]!;
      if (t.exitReason === 'stop_loss') {
        const stop = t.entryPrice * (1 - sign * STOP);
        const raw = t.side === 'long' ? Math.min(candle.open, stop) : Math.max(candle.open, stop);
        expect(t.exitPrice).toBeCloseTo(raw * (1 - sign * SLIP), 6);
        expect(t.side === 'long' ? candle.low <= stop : candle.high >= stop).toBe(true);
      }
      if (t.exitReason === 'take_profit') {
        const target = t.entryPrice * (1 + TARGET);
        expect(t.exitPrice).toBeCloseTo(Math.max(candle.open, target), 6);
        expect(candle.low > t.entryPrice * (1 - STOP) || candle.open >= target).toBe(true); // stop untouched
      }
      if (t.exitReason === 'end_of_data') expect(t.exitTime).toBe(last.openTime);
    }
  });
});
