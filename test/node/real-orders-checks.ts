/**
 * The real-order node scenarios' exchange (the simulator playing the shipped BTC/USDT 1m with an account) and the
 * checks of their `mode: real` strategies after the run: the simulator's account against what the workers' journals
 * (`trading.jsonl`, `orders.jsonl`) say was decided and sent.
 */
import path from 'node:path';
import { expect } from 'vitest';
import type { OrderEvent } from '../../framework/broker/orders';
import type { OrderRecord } from '../../framework/execution/orders-journal';
import { replayCandles } from '../../framework/feeds/replay';
import type { FaultConfig } from '../../framework/sim/config';
import { startSimulator, type Simulator } from '../../framework/sim/simulator';
import { jsonLines } from './node-process';

/**
 * Starts the simulator the real-order scenarios trade on: the shipped binance BTC/USDT 1m from 2021-04-21 02:00 at
 * `speed`, and an account with the API key `credentials` holding 10,000 USDT and no BTC.
 */
export function startRealOrdersSimulator(speed: number, credentials: { readonly apiKey: string; readonly secret: string }, faults?: FaultConfig): Promise<Simulator> {
  return startSimulator({
    markets: [{ symbol: 'BTC/USDT', timeframe: '1m', candles: replayCandles('datasets', { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1m' }) }],
    startTime: Date.UTC(2021, 3, 21, 2, 0),
    speed,
    account: { ...credentials, balances: { USDT: 10_000, BTC: 0 } },
    ...(faults !== undefined && { faults }),
  });
}

/** A base quantity in units of 1e-8 (exact comparisons of sums). */
export const units = (quantity: number): number => Math.round(quantity * 1e8);

/** The paper order events a run journaled (`trading.jsonl`), oldest first. */
export const orderEvents = (dir: string): OrderEvent[] => jsonLines<{ kind: string } & OrderEvent>(path.join(dir, 'trading.jsonl')).filter((l) => l.kind === 'order');

/**
 * Checks, for the strategies whose one run folder each is `dirs[id]` (a node stopped cleanly):
 * - every exchange order's client order id is a paper order's of a worker journal (or its follow-up `<id>r<n>`), none
 *   twice, and each strategy sent at least one;
 * - the account's BTC equals the sum of the paper positions each worker had decided when it stopped: the target of its
 *   last order event before its last candle's checkpoint (pending orders included: an add decided on the last candle
 *   went out at once, its paper fill would have come at the next open). The report's close at the stop (and the
 *   cancellation of such a pending order), journaled after that checkpoint, is not mirrored: the exchange keeps the
 *   position, as `npm run live --real-orders`; and each strategy's own holding on the connector (its executor's
 *   `orders.jsonl`) is its paper target;
 * - no reconciliation pass found a difference (`<runs>/events.jsonl` empty).
 *
 * @returns the sum of the paper positions, in {@link units}.
 */
export function expectAccountMatchesJournals(sim: Simulator, runs: string, dirs: Readonly<Record<string, string>>): number {
  const exchangeIds = sim.account.orders.map((o) => o.clientOrderId);
  expect(new Set(exchangeIds).size).toBe(exchangeIds.length);
  const paperIds = new Set(Object.values(dirs).flatMap((dir) => orderEvents(dir).map((e) => e.order.clientOrderId)));
  expect(exchangeIds.filter((id) => !paperIds.has(id.replace(/r\d+$/, '')))).toEqual([]);
  for (const [id, dir] of Object.entries(dirs)) expect(exchangeIds.some((c) => orderEvents(dir).some((e) => e.order.clientOrderId === c)), id).toBe(true);

  let paper = 0;
  for (const [id, dir] of Object.entries(dirs)) {
    const lines = jsonLines<{ kind: string } & OrderEvent>(path.join(dir, 'trading.jsonl'));
    const checkpoints = lines.flatMap((l, i) => (l.kind === 'state' ? [i] : []));
    const decided = lines.slice(0, checkpoints.at(-2)).filter((l) => l.kind === 'order');
    const target = decided.at(-1)?.targetQuantity ?? 0;
    paper += units(target);
    const records = jsonLines<OrderRecord>(path.join(dir, 'orders.jsonl')).filter((r) => r.status !== 'sending');
    expect(units(records.at(-1)!.held), id).toBe(units(target));
  }
  const btc = sim.account.balance('BTC');
  expect(units(btc.free + btc.locked)).toBe(paper);
  expect(jsonLines<{ finding: string }>(path.join(runs, 'events.jsonl'))).toEqual([]);
  return paper;
}
