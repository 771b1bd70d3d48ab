import { describe, expect, it } from 'vitest';
import { brokerConfig } from '../../framework/broker/broker-config';
import { parseBrokerState } from '../../framework/broker/broker-state';
import type { OrderEvent } from '../../framework/broker/orders';
import { PaperBroker } from '../../framework/broker/paper-broker';
import { candleAt, type Candle } from '../../framework/core/candle';
import { FrameworkError } from '../../framework/core/errors';
import { replayCandles } from '../../framework/feeds/replay';
import { scalingRule } from '../support/scaling-rule';

const BTC_1H = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' } as const;
const batch = replayCandles('datasets', BTC_1H);
/** 500 consecutive shipped BTC/USDT 1h candles from 2021-03-01: adds, partial exits, stops and reversals among them. */
const first = Array.from(batch.openTime).findIndex((t) => t >= Date.UTC(2021, 2, 1));
const candles: Candle[] = Array.from({ length: 500 }, (_, i) => candleAt(batch, first + i));
const config = brokerConfig({ feeRate: 0.001, slippageBps: 5, amountStep: 0.00001, strategyKey: 'scaling:test' });

/** Steps candles `from … to − 1` through `broker` with the scaling rule; closes all after the last candle. */
function drive(broker: PaperBroker, from: number): void {
  for (let i = from; i < candles.length; i++) {
    broker.onCandle(candles[i]!);
    const signal = scalingRule(candles, i, broker.account);
    if (signal !== null) broker.submit(signal, candles[i]!);
  }
  broker.closeAll(candles.at(-1)!);
}

describe('PaperBroker.snapshot / restore on shipped candles', () => {
  const whole = new PaperBroker(config);
  const wholeEvents: OrderEvent[] = [];
  whole.addOrderListener((e) => wholeEvents.push(e));
  drive(whole, 0);

  it('continues exactly as the uninterrupted broker from every split point (state through JSON)', () => {
    const reasons = new Set(whole.fills.map((f) => f.reason));
    for (const r of ['add', 'partial_exit', 'reversal', 'stop_loss']) expect(reasons, r).toContain(r);
    const mismatches: string[] = [];
    let restoredWithOrders = 0;
    let restoredWithPosition = 0;
    for (let k = 0; k < candles.length - 1; k++) {
      // The first broker runs candles 0 … k and is "killed"; its state goes through JSON like a journal line.
      const killed = new PaperBroker(config);
      for (let i = 0; i <= k; i++) {
        killed.onCandle(candles[i]!);
        const signal = scalingRule(candles, i, killed.account);
        if (signal !== null) killed.submit(signal, candles[i]!);
      }
      const state = parseBrokerState(JSON.parse(JSON.stringify(killed.snapshot())), `split ${k}`);
      if (state.pendingOrders.length > 0) restoredWithOrders += 1;
      if (state.position !== null) restoredWithPosition += 1;
      const resumed = PaperBroker.restore(config, state);
      const events: OrderEvent[] = [];
      resumed.addOrderListener((e) => events.push(e));
      drive(resumed, k + 1);
      const after = candles[k]!.openTime;
      const same =
        JSON.stringify([...killed.fills, ...resumed.fills]) === JSON.stringify(whole.fills) &&
        JSON.stringify(resumed.trades) === JSON.stringify(whole.trades.filter((t) => t.exitTime > after)) &&
        JSON.stringify(Array.from(resumed.equityCurve.equity)) === JSON.stringify(Array.from(whole.equityCurve.equity.subarray(k + 1))) &&
        JSON.stringify(events.map((e) => e.order.clientOrderId + e.order.status + e.targetQuantity)) ===
          JSON.stringify(wholeEvents.slice(wholeEvents.length - events.length).map((e) => e.order.clientOrderId + e.order.status + e.targetQuantity));
      if (!same) mismatches.push(`split after candle ${k} (${new Date(after).toISOString()})`);
    }
    expect(mismatches).toEqual([]);
    expect(restoredWithOrders).toBeGreaterThan(20); // splits between a decision and its fill
    expect(restoredWithPosition).toBeGreaterThan(200);
  });

  it('refuses a state that is not one, naming where it came from and the field', () => {
    const state = whole.snapshot();
    expect(() => parseBrokerState({ ...state, cash: 'lots' }, 'runs/x/trading.jsonl line 3')).toThrow(
      /^runs\/x\/trading\.jsonl line 3: not a broker state: cash: /,
    );
    expect(() => parseBrokerState({ ...state, position: null, roundTrip: { ...whole.snapshot().roundTrip } }, 'here')).toThrow(FrameworkError);
    expect(() => new PaperBroker(config).snapshot()).toThrow(/before its first candle/);
  });
});
