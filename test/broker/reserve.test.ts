import { describe, expect, it } from 'vitest';
import { brokerConfig } from '../../framework/broker/broker-config';
import { EquityCurveBuffer } from '../../framework/broker/equity-curve';
import { PaperBroker } from '../../framework/broker/paper-broker';
import type { Candle } from '../../framework/core/candle';
import { loadJsonCandles } from '../support/shared-data';

/** Binance BTC/USDT 1h candles, [open time ms, open, high, low, close, volume] rows (see ../shared/data/SOURCES.md). */
const candles: Candle[] = loadJsonCandles('BTC_USDT-1h.json');

/** Feeds every candle, entering long every 50th candle with a stop and exiting 20 candles later. */
function run(broker: PaperBroker): void {
  candles.forEach((candle, i) => {
    broker.onCandle(candle);
    if (i % 50 === 0) broker.submit({ action: 'enter_long', stopLoss: 0.03 }, candle);
    if (i % 50 === 20) broker.submit({ action: 'exit_long' }, candle);
  });
  broker.closeAll(candles[candles.length - 1]!);
}

describe('PaperBroker.reserve (a capacity hint)', () => {
  it('changes nothing the broker reports, whether the hint is exact, short or generous', () => {
    const plain = new PaperBroker(brokerConfig());
    run(plain);
    for (const hint of [candles.length, 100, 3 * candles.length]) {
      const hinted = new PaperBroker(brokerConfig());
      hinted.reserve(hint);
      run(hinted);
      const curve = hinted.equityCurve;
      expect(curve.time.length).toBe(candles.length);
      expect(Array.from(curve.time)).toEqual(candles.map((c) => c.openTime));
      for (const key of ['time', 'equity', 'cash', 'positionValue'] as const) {
        expect(Array.from(curve[key])).toEqual(Array.from(plain.equityCurve[key]));
      }
      expect(hinted.trades).toEqual(plain.trades);
      expect(hinted.fills).toEqual(plain.fills);
      expect(hinted.exposedCandles).toBe(plain.exposedCandles);
    }
    expect(plain.trades.length).toBeGreaterThan(50);
  });
});

describe('an equity curve kept without its parts (an optimisation trial\'s)', () => {
  it('has the same time and equity rows, grown from a small capacity and re-marked at the close; no cash or position value', () => {
    // As run(), but long at the end, so that the end-of-data close re-marks the curve's last row.
    const endingLong = (broker: PaperBroker): void => {
      candles.forEach((candle, i) => {
        broker.onCandle(candle);
        if (i % 50 === 0 || i === candles.length - 5) broker.submit({ action: 'enter_long' }, candle);
        if (i % 50 === 20) broker.submit({ action: 'exit_long' }, candle);
      });
      expect(broker.position).not.toBeNull();
      broker.closeAll(candles[candles.length - 1]!);
    };
    const plain = new PaperBroker(brokerConfig());
    endingLong(plain);
    const lean = new PaperBroker(brokerConfig(), { equityCurve: new EquityCurveBuffer(16, { parts: false }) });
    endingLong(lean);
    const [a, b] = [plain.equityCurve, lean.equityCurve];
    expect(Array.from(b.time)).toEqual(Array.from(a.time));
    expect(Array.from(b.equity)).toEqual(Array.from(a.equity));
    expect([b.cash.length, b.positionValue.length]).toEqual([0, 0]);
    expect(lean.trades).toEqual(plain.trades);
  });
});
