import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyFailure } from '../../framework/execution/failures';
import { createExchange } from '../../framework/feeds/live/exchange';
import type { BinanceKlineTap } from '../../framework/feeds/live/binance-tap';
import { replayCandles } from '../../framework/feeds/replay';
import { startSimulator, type Simulator } from '../../framework/sim/simulator';

// Real ccxt errors, raised by real requests on loopback: the simulator (429, a refused signature), a closed port (the
// connection is refused: nothing was written) and a server that accepts the connection and never answers.
const H1 = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' } as const;
const credentials = { apiKey: 'exec-key', secret: 'exec-secret' };
let sim: Simulator;
let silent: Server;
const opened: BinanceKlineTap[] = [];

function exchangeAt(restUrl: string, secret = credentials.secret): BinanceKlineTap {
  const exchange = createExchange('binance', { urls: { restUrl, wsUrl: `${restUrl.replace('http', 'ws')}/ws` }, enableRateLimit: false, credentials: { ...credentials, secret } });
  opened.push(exchange);
  return exchange;
}

async function thrown(exchange: BinanceKlineTap): Promise<unknown> {
  if (exchange.markets === undefined) {
    const loaded = opened[0]!;
    await loaded.loadMarkets();
    exchange.setMarkets(loaded.markets);
  }
  return exchange.createOrder('BTC/USDT', 'market', 'buy', 0.01).then(() => null, (error: unknown) => error);
}

beforeAll(async () => {
  sim = await startSimulator({
    markets: [{ symbol: H1.symbol, timeframe: H1.timeframe, candles: replayCandles('datasets', H1) }],
    startTime: Date.UTC(2021, 2, 1, 10, 30),
    speed: 0,
    account: credentials,
    // The third REST request (exchangeInfo is the first) is answered 429 with Retry-After: 7.
    faults: { rest429: { nth: [3], retryAfterSec: 7 } },
  });
  exchangeAt(sim.restUrl);
  silent = createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  for (const exchange of opened) await exchange.close();
  silent.close();
  await sim.stop();
});

describe('classifyFailure on the errors real ccxt raises', () => {
  it('429: rate limited, waiting the answer\'s Retry-After', async () => {
    const exchange = opened[0]!;
    await exchange.loadMarkets();
    await exchange.createOrder('BTC/USDT', 'market', 'buy', 0.01); // request 2
    const error = await thrown(exchange); // request 3
    expect(classifyFailure(error, exchange.last_response_headers?.['Retry-After'], 1_000)).toMatchObject({ classification: 'rate_limited', retryAfterMs: 7_000 });
    expect(classifyFailure(error, undefined, 1_000).retryAfterMs).toBe(1_000);
  });

  it('an answer with an error body (a bad signature): rejected', async () => {
    const error = await thrown(exchangeAt(sim.restUrl, 'wrong-secret'));
    expect(classifyFailure(error, undefined, 1_000)).toMatchObject({ classification: 'rejected', message: expect.stringContaining('-1022') });
  });

  it('connection refused (a closed port): not sent', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const error = await thrown(exchangeAt(`http://127.0.0.1:${port}`));
    expect(classifyFailure(error, undefined, 1_000)).toMatchObject({ classification: 'not_sent', message: expect.stringContaining('ECONNREFUSED') });
  });

  it('sent, no answer (the client\'s timeout): ambiguous', async () => {
    const exchange = exchangeAt(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`);
    exchange.timeout = 300;
    const error = await thrown(exchange);
    expect(classifyFailure(error, undefined, 1_000)).toMatchObject({ classification: 'ambiguous', message: expect.stringContaining('timed out') });
  });

  it('a lookup that timed out: ambiguous, its signed URL\'s signature masked in the message', async () => {
    const exchange = exchangeAt(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`);
    exchange.timeout = 300;
    exchange.setMarkets(opened[0]!.markets);
    const error = await exchange.fetchOrder(undefined as unknown as string, 'BTC/USDT', { origClientOrderId: 'cc0-1-0' }).then(() => null, (e: unknown) => e);
    const failure = classifyFailure(error, undefined, 1_000);
    expect(failure.classification).toBe('ambiguous');
    expect(String(error)).toMatch(/signature=[0-9a-f]{64}/);
    expect(failure.message).toContain('origClientOrderId=cc0-1-0');
    expect(failure.message).toContain('signature=…');
    expect(failure.message).not.toMatch(/signature=[0-9a-f]/);
  });

  it('anything unknown: ambiguous (looked up before any retry)', () => {
    expect(classifyFailure(new TypeError('x is undefined'), undefined, 1_000).classification).toBe('ambiguous');
  });
});
