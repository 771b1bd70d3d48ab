/**
 * The connector against the simulator, through real ccxt on loopback, on real candles: three subscriptions share one
 * rate-limit back-off (a 429 answered to one holds back every REST caller of the exchange account for its
 * Retry-After, as the simulator's own request log shows) and one request budget.
 */
import { DDoSProtection, RequestTimeout } from '../../framework/core/ccxt';
import { afterEach, describe, expect, it } from 'vitest';
import { Connector } from '../../framework/connector/connector';
import type { StoredCandle } from '../../framework/core/candle';
import type { Subscription } from '../../framework/core/subscription';
import { timeframeToMs } from '../../framework/core/timeframe';
import { LiveFeed } from '../../framework/feeds/live/live-feed';
import { RateLimitGate } from '../../framework/feeds/live/retry';
import { startSimulator, type Simulator } from '../../framework/sim/simulator';
import { dataset, memoryLogger, waitFor } from '../feeds/support';

const START = Date.UTC(2021, 1, 10);
/** A 5m candle every 3 s of real time: the feeds make no REST call between their start and the test's calls. */
const SPEED = 100;
const RETRY_AFTER_SEC = 2;
const SUBSCRIPTIONS: readonly Subscription[] = (['5m', '15m', '1h'] as const).map((timeframe) => ({ exchange: 'binance', symbol: 'BTC/USDT', timeframe }));
const CREDENTIALS = { apiKey: 'connector-key-51c7d2', secret: 'connector-secret-9e04ab7f' };

let sim: Simulator | undefined;
let connector: Connector | undefined;
const feeds: LiveFeed[] = [];

afterEach(async () => {
  for (const feed of feeds.splice(0)) await feed.stop();
  await connector?.close();
  await sim?.stop();
});

async function simulator(faults = {}): Promise<Simulator> {
  sim = await startSimulator({
    markets: SUBSCRIPTIONS.map((s) => ({ symbol: s.symbol, timeframe: s.timeframe, candles: dataset(s) })),
    startTime: START,
    speed: SPEED,
    faults,
    account: CREDENTIALS,
  });
  return sim;
}

/** A feed of `subscription` on the connector, from 20 candles before the simulator's start; REST-idle once running. */
function feedOf(c: Connector, subscription: Subscription, emitted: StoredCandle[], logger: ReturnType<typeof memoryLogger>['logger']): LiveFeed {
  const feed = new LiveFeed({
    ...c.feedAccess(),
    subscription,
    lastStoredOpenTime: START - 20 * timeframeToMs(subscription.timeframe),
    clockRate: SPEED,
    monitorIntervalMs: 3_600_000,
    clockResyncIntervalMs: 3_600_000,
    silenceTimeoutMs: 100 * timeframeToMs(subscription.timeframe),
    backoff: { baseMs: 5, maxMs: 50 },
    onCandle: (candle) => void emitted.push(candle),
    logger,
  });
  feeds.push(feed);
  return feed;
}

describe('one connector per exchange account', () => {
  it('holds back every REST caller of the account for the Retry-After of a 429 answered to one of three feeds', async () => {
    const s = await simulator({ rest429: { retryAfterSec: RETRY_AFTER_SEC } });
    connector = new Connector({ exchange: 'binance', urls: s, enableRateLimit: false, credentials: CREDENTIALS });
    const { logger, lines } = memoryLogger();
    const emitted: StoredCandle[][] = SUBSCRIPTIONS.map(() => []);
    const [first, second, third] = SUBSCRIPTIONS.map((sub, i) => feedOf(connector!, sub, emitted[i]!, logger)) as [LiveFeed, LiveFeed, LiveFeed];
    await first.start();
    const before = s.requestLog.length;

    // The next REST request gets the 429: the second feed's first exchange-clock sample (the markets are loaded).
    s.failNextRequest('rest429');
    const secondStarted = second.start();
    await waitFor(() => connector!.status().rateLimitWaits === 1, 'the 429 to be answered');
    // Every other REST caller of the account now wants the exchange: a third feed (markets, clock, backfill), the
    // trading instance (as reconciliation or an order would) and the market-data instance (as a backfill would).
    const others = Promise.all([
      third.start(),
      connector.trading!.fetchTime(),
      connector.marketData.fetchOHLCV('BTC/USDT', '5m', START - 10 * 300_000, 5),
    ]);
    await Promise.all([secondStarted, others]);

    const log = s.requestLog.slice(before);
    const refused = log.findIndex((r) => r.status === 429);
    expect(log.filter((r) => r.status === 429)).toHaveLength(1);
    expect(refused).toBe(0);
    const { receivedAt, retryAfterSec } = log[refused]!;
    expect(retryAfterSec).toBe(RETRY_AFTER_SEC);
    const after = log.slice(refused + 1);
    // Retries of the second feed, the third feed's start, the trading and market-data calls: all reached the exchange.
    expect(after.length).toBeGreaterThanOrEqual(1 + 5 + 1 + 1 + 1);
    expect(new Set(after.map((r) => r.endpoint))).toEqual(new Set(['GET /api/v3/time', 'GET /api/v3/klines']));
    // None before the Retry-After had passed, by the simulator's clock of arrivals (the same process clock).
    const early = after.filter((r) => r.receivedAt < receivedAt + RETRY_AFTER_SEC * 1000);
    expect(early.map((r) => `${r.endpoint} ${(r.receivedAt - receivedAt).toFixed(1)} ms after the 429`)).toEqual([]);
    expect(after.every((r) => r.status === 200)).toBe(true);

    // The three feeds run, each on its own WebSocket instance, and delivered real candles.
    await waitFor(() => emitted.every((e) => e.length > 0), 'a candle from each feed');
    expect(connector.status()).toMatchObject({ rateLimitWaits: 1, streams: 3 });
    for (const [i, e] of emitted.entries()) expect(e[0]!.openTime).toBe(START - 19 * timeframeToMs(SUBSCRIPTIONS[i]!.timeframe));
    // The keys are in no log line.
    const text = JSON.stringify(lines);
    expect(text.includes(CREDENTIALS.secret) || text.includes(CREDENTIALS.apiKey)).toBe(false);
  }, 120_000); // over 30 s at load 63 (the Retry-After itself is 2 s)

  it('draws every instance\'s requests from one budget', async () => {
    const s = await simulator();
    // 1 s of budget per unit of ccxt cost; `time` costs 0.2 on Binance (weight 1): three requests need 0.4 s whatever
    // instance sends them. With a budget per instance all three would leave at once.
    connector = new Connector({ exchange: 'binance', urls: s, rateLimitMs: 1_000, credentials: CREDENTIALS });
    const instances = [connector.marketData, connector.trading!, connector.stream()];
    // One request each first: ccxt sets up its HTTP client on an instance's first request, which can take longer
    // than the budget's wait and would bunch the requests up behind it.
    for (const instance of instances) await instance.fetchTime();
    const before = s.requestLog.length;
    await Promise.all(instances.map((instance) => instance.fetchTime()));
    const arrivals = s.requestLog.slice(before).map((r) => r.receivedAt);
    expect(arrivals).toHaveLength(3);
    // Two waits of 200 ms in the bucket; checked at half of it, so that a first request delayed by load cannot fail it.
    expect(arrivals[2]! - arrivals[0]!).toBeGreaterThanOrEqual(200);
  }, 30_000);

  it('refuses calls once closed', async () => {
    const s = await simulator();
    connector = new Connector({ exchange: 'binance', urls: s, enableRateLimit: false });
    await connector.close();
    await expect(connector.marketData.fetchTime()).rejects.toThrow('binance connector: closed, GET /api/v3/time not sent');
    expect(() => connector!.stream()).toThrow('binance connector: closed, no new stream');
  });

  it('the 429 is a rate-limit answer ccxt classifies as DDoSProtection, which the gate honours', async () => {
    const s = await simulator({ rest429: { retryAfterSec: RETRY_AFTER_SEC } });
    connector = new Connector({ exchange: 'binance', urls: s, enableRateLimit: false });
    s.failNextRequest('rest429');
    await expect(connector.marketData.fetchTime()).rejects.toBeInstanceOf(DDoSProtection);
    expect(connector.status().heldForMs).toBeGreaterThan(1_000);
  });
});

describe('the shared back-off', () => {
  it('holds for a 418 (Binance\'s IP ban) as long as its Retry-After says, and counts an answer once however often noted', () => {
    const gate = new RateLimitGate();
    // ccxt's binance raises DDoSProtection for HTTP 418 and 429; Binance sends Retry-After in seconds.
    const ban = new DDoSProtection('binance 418 I\'m a teapot {"code":-1003,"msg":"Way too many requests; IP banned until 1619000000000."}');
    const before = performance.now();
    expect(gate.note(ban, { 'Retry-After': '120' })).toBe(120_000);
    expect(gate.note(ban, { 'Retry-After': '120' })).toBe(120_000); // the connector's hook and the caller's retry loop
    expect(gate.waits).toBe(1);
    expect(gate.closedUntil).toBeGreaterThanOrEqual(before + 120_000);
    // A timeout is no rate limit: it does not close the gate.
    expect(gate.note(new RequestTimeout('binance GET /api/v3/time timed out'), { 'Retry-After': '5' })).toBeNull();
    expect(gate.waits).toBe(1);
  });
});
