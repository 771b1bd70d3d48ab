/**
 * A failed loadMarkets is read again on the next call: ccxt keeps the promise of a failed load and hands the same
 * rejection to every later `loadMarkets()` (a live feed's retries then never reach the exchange). Found by the
 * trading node, whose first exchangeInfo request went out on a kept-alive socket the simulator had already closed.
 * Here a loopback proxy in front of the real simulator drops the first exchangeInfo request's connection.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Connector } from '../../framework/connector/connector';
import { startSimulator, type Simulator } from '../../framework/sim/simulator';
import { dataset } from '../feeds/support';

const BTC_1H = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' } as const;
let sim: Simulator | undefined;
let proxy: Server | undefined;
let connector: Connector | undefined;
afterEach(async () => {
  await connector?.close();
  proxy?.closeAllConnections();
  await new Promise((r) => (proxy === undefined ? r(undefined) : proxy.close(r)));
  await sim?.stop();
});

describe('Connector.marketData.loadMarkets', () => {
  it('reads the markets again after a failed load', { timeout: 60_000 }, async () => {
    sim = await startSimulator({ markets: [{ symbol: 'BTC/USDT', timeframe: '1h', candles: dataset(BTC_1H) }], startTime: Date.UTC(2021, 1, 10), speed: 1 });
    const target = new URL(sim.restUrl);
    let exchangeInfoRequests = 0;
    proxy = createServer((req, res) => {
      if (req.url?.includes('exchangeInfo') === true && ++exchangeInfoRequests === 1) {
        req.socket.destroy(); // the connection closes before an answer: "other side closed"
        return;
      }
      const upstream = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>((r) => proxy!.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    connector = new Connector({ exchange: 'binance', urls: { restUrl: url, wsUrl: sim.wsUrl }, enableRateLimit: false });

    await expect(connector.marketData.loadMarkets()).rejects.toThrow();
    const markets = await connector.marketData.loadMarkets(); // mutation (no reset in Connector): the same rejection
    expect(Object.keys(markets)).toContain('BTC/USDT');
    expect(exchangeInfoRequests).toBe(2);
  });
});
