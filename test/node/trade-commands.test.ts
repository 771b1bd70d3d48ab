/**
 * The trading node's connector side of real orders (`framework/node/trade-commands.ts`) on the project's simulator
 * with a signed account, through real ccxt on loopback and the real in-process bus: commands as workers send them
 * (here published by the test, as a worker with a sizing bug would), answers on each strategy's own topic.
 *
 * It proves: an order within the allocation is executed under the paper client order id; the same command again is
 * answered with the known result and nothing is sent; a buy beyond what the strategy has left of its allocation is
 * refused with `trade_failed` and a reason, journaled in `orders.jsonl` and `events.jsonl`, and never reaches the
 * exchange; a shortfall of the account against the sum of two strategies' holdings on one symbol blocks new entries
 * of both (exits still go out) until the account is in sync again.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerConfig } from '../../framework/broker/broker-config';
import type { OrderEvent } from '../../framework/broker/orders';
import { PaperBroker } from '../../framework/broker/paper-broker';
import { candleAt, type StoredCandle } from '../../framework/core/candle';
import { TradeClient } from '../../framework/node/trade-client';
import { InProcessBus } from '../../framework/bus/in-process';
import { Connector } from '../../framework/connector/connector';
import type { OrderRecord } from '../../framework/execution/orders-journal';
import { replayCandles } from '../../framework/feeds/replay';
import { TradeDesk } from '../../framework/node/trade-commands';
import { COMMAND_TOPICS, type StrategyEventMessage, type TradeCommand, type TradeReply, type ReconciliationNotice } from '../../framework/node/trade-messages';
import { startSimulator, type Simulator } from '../../framework/sim/simulator';
import { runCli } from '../support/cli';

const M1 = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1m' } as const;
const credentials = { apiKey: 'desk-key', secret: 'desk-secret' };
const START = Date.UTC(2021, 3, 21, 2, 0);
const scratch = mkdtempSync(path.join(tmpdir(), 'trade-commands-'));
let sim: Simulator;
let connector: Connector;
let bus: InProcessBus;
let desk: TradeDesk;
/** The close of the last candle before the simulator's frozen clock: the connector's reference price here. */
let price: number;
/** That candle: the one a worker's broker decides on. */
let decidingCandle: StoredCandle;
const messages = new Map<string, StrategyEventMessage[]>();

beforeAll(async () => {
  const candles = replayCandles('datasets', M1);
  const last = candles.openTime.findLastIndex((t) => t + 60_000 <= START);
  price = candles.close[last]!;
  decidingCandle = candleAt(candles, last);
  sim = await startSimulator({ markets: [{ symbol: M1.symbol, timeframe: M1.timeframe, candles }], startTime: START, speed: 0, account: { ...credentials, balances: { USDT: 10_000, BTC: 0 } } });
  connector = new Connector({ exchange: 'binance', urls: sim, enableRateLimit: false, credentials });
  bus = new InProcessBus();
  for (const id of ['a', 'b']) {
    messages.set(id, []);
    await bus.consume({ queue: `worker.${id}.execution`, topics: [`events.*.${id}`] }, (m) => void messages.get(id)!.push(m.body as StrategyEventMessage));
  }
  desk = await TradeDesk.start({
    bus,
    venue: connector.trading!,
    strategies: [
      { id: 'a', symbol: 'BTC/USDT', allocation: 1_000 },
      { id: 'b', symbol: 'BTC/USDT', allocation: 1_000 },
      // Started later (as by `npm run node -- start c`): a symbol waits for its enabled strategies' runs only.
      { id: 'c', symbol: 'BTC/USDT', allocation: 1_000, enabled: false },
    ],
    runsRoot: scratch,
    priceOf: () => price,
    reconcileIntervalMs: 3_600_000, // passes on demand only
  });
}, 60_000);

afterAll(async () => {
  await desk?.stop();
  await bus?.close();
  await connector?.close();
  await sim?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** Publishes a command as a worker does and waits for its answer on the strategy's topic. */
async function command(c: TradeCommand): Promise<TradeReply> {
  await bus.publish(COMMAND_TOPICS[0]!, c);
  for (let i = 0; i < 600; i++) {
    const reply = messages.get(c.strategyId)!.find((m): m is TradeReply => m.kind === 'reply' && m.commandId === c.commandId);
    if (reply !== undefined) {
      messages.set(c.strategyId, messages.get(c.strategyId)!.filter((m) => m !== reply));
      return reply;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no answer to ${c.commandId}`);
}

/** A paper market order event as the broker makes it when the order is decided. */
function event(id: string, side: 'buy' | 'sell', quantity: number, target: number, reason: OrderEvent['order']['reason'] = 'entry'): OrderEvent {
  return {
    order: { clientOrderId: id, side, type: 'market', reason, quantity, decidedAt: START - 60_000, status: 'accepted', filledQuantity: 0, averagePrice: Number.NaN },
    targetQuantity: target,
  };
}

const order = (strategyId: string, e: OrderEvent): TradeCommand => ({ kind: 'order', strategyId, runId: 'run-1', symbol: 'BTC/USDT', commandId: `${e.order.clientOrderId}:accepted:0`, event: e });
const lines = <T>(file: string): T[] => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as T);
const units = (q: number): number => Math.round(q * 1e8);
const btc = async (): Promise<number> => ((await connector.trading!.fetchBalance()).total as unknown as Record<string, number>)['BTC'] ?? 0;

describe('the connector executes commands.execute_trade for the node workers', () => {
  it('opens a run, executes an order once, answers a repeated command with the known result', async () => {
    const opened = await command({ kind: 'open', strategyId: 'a', runId: 'run-1', symbol: 'BTC/USDT', commandId: 'open-a', catchUp: [] });
    expect(opened.error).toBeUndefined();
    expect(opened.amountStep).toBeGreaterThan(0);
    // 0.01 BTC at about 55,000 USDT: about 550 USDT of the 1,000 allocated.
    const first = order('a', event('cca-1', 'buy', 0.01, 0.01));
    const reply = await command(first);
    expect(reply.events.map((e) => [e.type, e.clientOrderId])).toEqual([['trade_executed', 'cca-1']]);
    expect(reply.held).toBe(0.01);
    expect(sim.account.orders.map((o) => o.clientOrderId)).toEqual(['cca-1']);
    const again = await command(first);
    expect(again.known).toBe(true);
    expect(again.events).toEqual(reply.events);
    expect(sim.account.orders).toHaveLength(1);
  });

  it('refuses a buy beyond what the strategy has left of its allocation: trade_failed, journaled, never sent', async () => {
    const records = lines<OrderRecord>(path.join(scratch, 'a', 'run-1', 'orders.jsonl'));
    const bought = records.at(-1)!;
    // Left of 1,000 USDT: 1,000 − filled × average − the fee in USDT (the simulator charges 0.1% in the quote asset).
    const left = 1_000 - bought.filled! * bought.average! - bought.fee!.cost;
    expect(bought.fee!.currency).toBe('USDT');
    // Another 0.01 BTC costs 0.01 × price × 1.001 ≈ 550 USDT > about 449 left.
    expect(0.01 * price * 1.001).toBeGreaterThan(left);
    const reply = await command(order('a', event('cca-2', 'buy', 0.01, 0.02, 'add')));
    expect(reply.events).toHaveLength(1);
    expect(reply.events[0]).toMatchObject({ type: 'trade_failed', clientOrderId: 'cca-2', classification: 'not_sent', held: 0.01, target: 0.02 });
    expect((reply.events[0] as { message: string }).message).toMatch(/^allocation: a: buying 0\.01 BTC costs about \d+\.\d\d USDT, more than the \d+\.\d\d USDT left of its allocation of 1000 USDT; not sent$/);
    expect(sim.account.orders).toHaveLength(1); // never sent
    const journaled = lines<OrderRecord>(path.join(scratch, 'a', 'run-1', 'orders.jsonl')).at(-1)!;
    expect(journaled).toMatchObject({ clientOrderId: 'cca-2', request: 'create', status: null, failure: { classification: 'not_sent' } });
    const events = lines<{ type: string; clientOrderId: string }>(path.join(scratch, 'a', 'run-1', 'events.jsonl'));
    expect(events.map((e) => [e.type, e.clientOrderId])).toEqual([['trade_executed', 'cca-1'], ['trade_failed', 'cca-2']]);
    // A smaller add that fits (0.006 BTC ≈ 340 USDT, less than the ≈ 440 left) goes out.
    expect(0.006 * price * 1.001).toBeLessThan(left);
    const fits = await command(order('a', event('cca-3', 'buy', 0.006, 0.016, 'add')));
    expect(fits.events.map((e) => e.type)).toEqual(['trade_executed']);
    expect(sim.account.orders.map((o) => o.clientOrderId)).toEqual(['cca-1', 'cca-3']);
  });

  it('a shortfall on a symbol two strategies hold blocks the entries of both until the account is in sync again', async () => {
    await command({ kind: 'open', strategyId: 'b', runId: 'run-1', symbol: 'BTC/USDT', commandId: 'open-b', catchUp: [] });
    expect((await command(order('b', event('ccb-1', 'buy', 0.005, 0.005)))).events.map((e) => e.type)).toEqual(['trade_executed']);
    await desk.reconcileNow();
    expect(desk.blocked().size).toBe(0);
    // The account holds a's 0.016 + b's 0.005 = 0.021 BTC; a withdrawal (not a trade) of 0.003 leaves 0.018.
    expect(units(await btc())).toBe(units(0.021));
    sim.account.transfer({ asset: 'BTC', amount: -0.003 });
    await desk.reconcileNow();
    expect([...desk.blocked().keys()].sort()).toEqual(['a', 'b']);
    for (const id of ['a', 'b']) {
      const notices = messages.get(id)!.filter((m): m is ReconciliationNotice => m.kind === 'reconciliation');
      expect(notices.at(-1)!.blocked).toMatch(/0\.003 BTC less than the run expects/);
    }
    const refused = await command(order('b', event('ccb-2', 'buy', 0.001, 0.006, 'add')));
    expect(refused.events[0]).toMatchObject({ type: 'trade_failed', classification: 'not_sent' });
    expect((refused.events[0] as { message: string }).message).toMatch(/^blocked: reconciliation: /);
    // An exit still goes out: a sells 0.008 of its 0.016.
    const exit = await command(order('a', event('cca-4', 'sell', 0.008, 0.008, 'partial_exit')));
    expect(exit.events.map((e) => e.type)).toEqual(['trade_executed']);
    sim.account.transfer({ asset: 'BTC', amount: 0.003 }); // back: 0.008 + 0.005 held = what the strategies own
    await desk.reconcileNow();
    expect(desk.blocked().size).toBe(0);
    expect(messages.get('b')!.filter((m): m is ReconciliationNotice => m.kind === 'reconciliation').at(-1)!.blocked).toBeNull();
    expect(units(await btc())).toBe(units(0.013));
    expect(sim.account.orders.map((o) => o.clientOrderId)).toEqual(['cca-1', 'cca-3', 'ccb-1', 'cca-4']);
    const account = lines<{ type: string; finding: string; strategy: string }>(path.join(scratch, 'events.jsonl'));
    expect(account.map((e) => [e.finding, e.strategy])).toContainEqual(['unexplained', 'a,b']);
  });
});

describe("a worker's side (TradeClient) with the connector's", () => {
  it('mirrors its paper broker after the flush, and refuses entries on paper while reconciliation blocks it', async () => {
    const client = await TradeClient.open({ bus, strategyId: 'c', runId: 'run-1', symbol: 'BTC/USDT', restoredEvents: [] });
    expect(client.amountStep).toBeGreaterThan(0);
    const broker = new PaperBroker({ strategyKey: 'c/test', ...brokerConfig({ initialCash: 1_000, amountStep: client.amountStep! }) });
    broker.addOrderListener(client.listener);
    const paperIds: string[] = [];
    broker.addOrderListener((e) => paperIds.push(e.order.clientOrderId));
    const gated = client.gate(broker);
    gated.onCandle(decidingCandle);
    expect(gated.submit({ action: 'enter_long', size: { quote: 200 } }, decidingCandle)).toEqual({ acted: true });
    const before = sim.account.orders.length;
    await client.flush(); // what the worker does after the candle's checkpoint
    const sent = sim.account.orders.slice(before);
    expect(sent.map((o) => [o.clientOrderId, o.side])).toEqual([[paperIds[0], 'BUY']]);
    // a 0.013 + c's purchase; a withdrawal of 0.002 blocks a, b and c
    sim.account.transfer({ asset: 'BTC', amount: -0.002 });
    await desk.reconcileNow();
    expect([...desk.blocked().keys()].sort()).toEqual(['a', 'b', 'c']);
    // The notice reaches the worker's queue asynchronously.
    for (let i = 0; i < 200 && client.blocked() === null; i++) await new Promise((r) => setTimeout(r, 25));
    const decision = gated.submit({ action: 'enter_long', add: true, size: { quote: 100 } }, decidingCandle);
    expect(decision.acted).toBe(false);
    expect(decision.acted ? '' : decision.reason).toMatch(/^blocked: reconciliation: the exchange holds 0\.002 BTC less/);
    // An exit is not blocked: it reaches the paper broker (which refuses it here for its own reason: the entry is
    // still pending for the next open).
    const exit = gated.submit({ action: 'exit_long' }, decidingCandle);
    expect(exit.acted ? '' : exit.reason).not.toMatch(/blocked/);
    sim.account.transfer({ asset: 'BTC', amount: 0.002 });
    await desk.reconcileNow();
    expect(desk.blocked().size).toBe(0);
    for (let i = 0; i < 200 && client.blocked() !== null; i++) await new Promise((r) => setTimeout(r, 25));
    expect(client.blocked()).toBeNull();
    await client.close();
  });
});

describe('a restarted connector (a new trade desk over the same runs and account)', () => {
  it("reconciles a symbol only once every enabled strategy trading it has reopened its run: another's holding is not external meanwhile", async () => {
    await desk.stop();
    desk = await TradeDesk.start({
      bus,
      venue: connector.trading!,
      strategies: ['a', 'b', 'c'].map((id) => ({ id, symbol: 'BTC/USDT', allocation: 1_000 })),
      runsRoot: scratch,
      priceOf: () => price,
      reconcileIntervalMs: 3_600_000,
    });
    messages.set('c', []);
    await bus.consume({ queue: 'test.c.execution', topics: ['events.*.c'] }, (m) => void messages.get('c')!.push(m.body as StrategyEventMessage));
    const accountRecords = (): string[] => lines<{ finding: string }>(path.join(scratch, 'events.jsonl')).map((e) => e.finding);
    const before = accountRecords();
    const notices = (): number => messages.get('a')!.filter((m) => m.kind === 'reconciliation').length;
    const noticesBefore = notices();
    // The account holds what a, b and c hold; each run reopens (a pass at each open), a first: it holds only part.
    const held: Record<string, number> = {};
    for (const id of ['a', 'b', 'c']) {
      const reopened = await command({ kind: 'open', strategyId: id, runId: 'run-1', symbol: 'BTC/USDT', commandId: `reopen-${id}`, catchUp: [] });
      expect(reopened.error, id).toBeUndefined();
      held[id] = reopened.held;
      expect(accountRecords(), `after ${id} reopened`).toEqual(before);
      expect(desk.blocked().size).toBe(0);
    }
    expect(held['a']).toBeGreaterThan(0);
    expect(units(held['a']! + held['b']! + held['c']!)).toBe(units(await btc()));
    expect(notices()).toBe(noticesBefore); // nothing told to a either
    // Once all are open the symbol is reconciled: a deposit beyond their holdings is found (external, not traded).
    sim.account.transfer({ asset: 'BTC', amount: 0.001 });
    await desk.reconcileNow();
    expect(accountRecords()).toEqual([...before, 'external']);
    sim.account.transfer({ asset: 'BTC', amount: -0.001 });
  });
});

describe('npm run node with a mode: real strategy and no keys', () => {
  it('is refused in one line before anything starts or is written', async () => {
    const config = path.join(scratch, 'real.yaml');
    writeFileSync(config, 'strategies:\n  - { id: a, file: strategies/macd.ts, mode: real, allocation: { quote: 1000 } }\n');
    const saved = { key: process.env['CANDLECRAFT_API_KEY'], secret: process.env['CANDLECRAFT_API_SECRET'] };
    delete process.env['CANDLECRAFT_API_KEY'];
    delete process.env['CANDLECRAFT_API_SECRET'];
    try {
      const outcome = await runCli('framework/cli/node.ts', [config, '--exchange', 'sim', '--runs', path.join(scratch, 'no-keys')]);
      expect(outcome.code).toBe(1);
      expect(outcome.stderr.trim()).toBe('error: mode: real needs the API credentials in the environment: set CANDLECRAFT_API_KEY and CANDLECRAFT_API_SECRET');
      expect(existsSync(path.join(scratch, 'no-keys'))).toBe(false);
    } finally {
      if (saved.key !== undefined) process.env['CANDLECRAFT_API_KEY'] = saved.key;
      if (saved.secret !== undefined) process.env['CANDLECRAFT_API_SECRET'] = saved.secret;
    }
  }, 60_000);
});
