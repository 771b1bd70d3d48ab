/**
 * A Binance-compatible exchange simulator on 127.0.0.1: real ccxt (REST) and ccxt.pro (WebSocket) talk to it as to
 * Binance spot, while it plays stored candles on an accelerated (or manual) exchange clock and injects faults.
 *
 * @example
 * ```ts
 * const sim = await startSimulator({ markets: [{ symbol: 'BTC/USDT', timeframe: '5m', candles }],
 *   startTime: Date.UTC(2021, 2, 1), speed: 0 });
 * const ex = connectCcxt(sim);            // see ./ccxt-client
 * const history = await ex.fetchOHLCV('BTC/USDT', '5m');
 * sim.advanceTo(sim.clock() + 300_000);   // manual clock: play one candle
 * await ex.close(); await sim.stop();
 * ```
 *
 * The account: with `account: { apiKey, secret, balances: { USDT: 10_000 } }` the simulator also serves Binance's
 * signed spot endpoints (`GET /api/v3/account`, `POST/GET/DELETE /api/v3/order`, `openOrders`, `allOrders`,
 * `myTrades`), so ccxt's `fetchBalance`, `createOrder`, `fetchOrder(id, symbol, { clientOrderId })`, `fetchOpenOrders`,
 * `cancelOrder` and `fetchMyTrades` work against it (MARKET, LIMIT, STOP_LOSS, TAKE_PROFIT orders; rules and
 * deviations in `sim/account`; endpoints and
 * signing in `sim/orders`; order-path faults in `FaultConfig`). `sim.account.trade({ symbol, side, quantity })` trades
 * on it by hand from the test's process; another process trades on it through the same signed REST API with the same
 * key (a second ccxt client; `npm run sim` serves the key set in `CANDLECRAFT_API_KEY`/`CANDLECRAFT_API_SECRET`).
 *
 * @module
 */

import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { batchLength, sliceBatch } from '../core/candle';
import type { Timeframe } from '../core/timeframe';
import { SimClock } from './clock';
import type { FaultKind, MalformedKind, SimulatorConfig } from './config';
import { SimulatorConfigError, validateConfig } from './config';
import { FaultInjector } from './faults';
import { Playback } from './playback';
import { SimAccount, type SimulatedOrder } from './account';
import { OrderDesk } from './orders';
import { handleRest, RequestMeter, type RestRequestRecord } from './rest';
import { namedRng } from '../core/rng';
import { StreamHub } from './stream';
import { lowerBound } from '../core/search';
import { buildTape } from './tape';

/** What the simulator has done so far; a snapshot. */
export interface SimulatorStats {
  /** HTTP requests received (faulted ones included). */
  readonly restRequests: number;
  /** WebSocket connections accepted. */
  readonly wsConnections: number;
  /** WebSocket connections open now. */
  readonly wsOpenConnections: number;
  /** Kline text frames written to sockets (duplicates and malformed frames included). */
  readonly wsFramesSent: number;
  /** Kline events the exchange produced as its clock advanced (whether or not anyone was subscribed). */
  readonly klineEvents: number;
  /**
   * Injected faults by type. WebSocket faults and REST 429/500 count injections; `revision` counts REST kline rows
   * served with a revised value.
   */
  readonly faults: Readonly<Record<FaultKind, number>>;
  /** Malformed frames by kind (they sum to `faults.malformed`). */
  readonly malformedByKind: Readonly<Record<MalformedKind, number>>;
}

/** A candle whose REST version (once closed) differs from the closing frame the WebSocket sends (`revision` fault). */
export interface SimulatorRevision {
  readonly symbol: string;
  readonly timeframe: Timeframe;
  /** Open time, UTC epoch ms. */
  readonly openTime: number;
  /** The volume of the WebSocket closing frame (the dataset's). */
  readonly websocketVolume: number;
  /** The volume REST reports. */
  readonly restVolume: number;
  /** The close of the WebSocket closing frame (the dataset's). */
  readonly websocketClose: number;
  /** The close REST reports. */
  readonly restClose: number;
}

/**
 * A running simulator (see the module doc). Created by {@link startSimulator}; call {@link Simulator.stop} when done.
 *
 * URLs: `restUrl` is the origin (`http://127.0.0.1:<port>`, endpoints under `/api/v3`), `wsUrl` the raw-stream base
 * (`ws://127.0.0.1:<port>/ws`, what ccxt.pro's `urls.api.ws.spot` should be), `streamUrl` the combined-stream base.
 */
export class Simulator {
  readonly restUrl: string;
  readonly wsUrl: string;
  readonly streamUrl: string;
  private stopped = false;

  /** The orders placed on the account so far, oldest first (see `config.account`; empty without an account). */
  get orders(): readonly SimulatedOrder[] {
    return this.#account?.orders ?? [];
  }

  /**
   * The simulated spot account (`config.account`): balances, orders, fills, and `trade()` to buy or sell on it by hand
   * from outside the run, as a person on the exchange's website would.
   *
   * @throws {@link "sim/config"!SimulatorConfigError | SimulatorConfigError} when the simulator was started without
   *   `account`.
   */
  get account(): SimAccount {
    if (this.#account === null) throw new SimulatorConfigError('simulator.account: the simulator was started without config.account');
    return this.#account;
  }

  readonly #account: SimAccount | null;

  /** Use {@link startSimulator}. */
  constructor(
    readonly port: number,
    private readonly server: Server,
    private readonly wss: WebSocketServer,
    private readonly hub: StreamHub,
    private readonly faults: FaultInjector,
    private readonly playback: Playback,
    private readonly requests: RequestMeter,
    account: SimAccount | null,
  ) {
    this.#account = account;
    this.restUrl = `http://127.0.0.1:${port}`;
    this.wsUrl = `ws://127.0.0.1:${port}/ws`;
    this.streamUrl = `ws://127.0.0.1:${port}/stream`;
  }

  /** Candles with a revised REST version, by market (config order) then open time. */
  get revisions(): readonly SimulatorRevision[] {
    return this.playback.tapes.flatMap((tape) =>
      [...new Set([...tape.revisedVolume.keys(), ...tape.revisedClose.keys()])]
        .filter((i) => i < batchLength(tape.candles))
        .sort((a, b) => a - b)
        .map((i) => ({
          symbol: tape.symbol,
          timeframe: tape.timeframe,
          openTime: tape.candles.openTime[i]!,
          websocketVolume: tape.candles.volume[i]!,
          restVolume: tape.revisedVolume.get(i) ?? tape.candles.volume[i]!,
          websocketClose: tape.candles.close[i]!,
          restClose: tape.revisedClose.get(i) ?? tape.candles.close[i]!,
        })),
    );
  }

  /**
   * Revises a candle from now on: once it has closed, REST reports `close` for the candle of `symbol` at `timeframe`
   * opening at `openTime` (high and low widen to hold it), while the WebSocket's closing frame keeps the dataset's.
   * The `revision` fault's `closes`, planted while running: a test can revise a candle relative to where a live run
   * has got to, whatever the machine's speed.
   *
   * @throws {@link "sim/config"!SimulatorConfigError | SimulatorConfigError} when that market or candle is not
   *   simulated.
   */
  reviseClose(symbol: string, timeframe: Timeframe, openTime: number, close: number): void {
    const tape = this.playback.tapes.find((t) => t.symbol === symbol && t.timeframe === timeframe);
    const i = tape === undefined ? -1 : lowerBound(tape.candles.openTime, openTime);
    if (tape === undefined || tape.candles.openTime[i] !== openTime || !(close > 0)) {
      throw new SimulatorConfigError(`reviseClose: ${symbol} ${timeframe} has no candle at ${openTime} to revise to close ${close}`);
    }
    tape.revisedClose.set(i, close);
  }

  /**
   * Ends a market's data from now on: the candle of `symbol` at `timeframe` opening at `lastOpenTime` is its last; no
   * later candle is streamed or served over REST, as when an exchange stops publishing a market. Ended while running:
   * a test can end the data relative to where a live run has got to, whatever the machine's speed.
   *
   * @throws {@link "sim/config"!SimulatorConfigError | SimulatorConfigError} when that market is not simulated, has no
   *   candle opening at `lastOpenTime`, or the candle after it has already opened on the exchange clock (what the
   *   exchange has shown cannot be taken back).
   */
  endData(symbol: string, timeframe: Timeframe, lastOpenTime: number): void {
    const tape = this.playback.tapes.find((t) => t.symbol === symbol && t.timeframe === timeframe);
    const i = tape === undefined ? -1 : lowerBound(tape.candles.openTime, lastOpenTime);
    if (tape === undefined || tape.candles.openTime[i] !== lastOpenTime) {
      throw new SimulatorConfigError(`endData: ${symbol} ${timeframe} has no candle at ${lastOpenTime} to end with`);
    }
    const next = tape.candles.openTime[i + 1];
    if (next !== undefined && next <= this.playback.peek()) {
      throw new SimulatorConfigError(
        `endData: the ${symbol} ${timeframe} candle after ${lastOpenTime} opened at ${next}, before the exchange's now ${this.playback.peek()}`,
      );
    }
    tape.candles = sliceBatch(tape.candles, 0, i + 1);
  }

  /** Current exchange time, UTC epoch ms. */
  clock(): number {
    return this.playback.peek();
  }

  /**
   * Moves the exchange clock to `exchangeMs` and synchronously emits every kline event due by then, in time order
   * (the frames are queued on the sockets when this returns). The step mode for tests; works at any speed.
   *
   * @throws {@link "sim/config"!SimulatorConfigError | SimulatorConfigError} when `exchangeMs` is before the current
   *   exchange time.
   */
  advanceTo(exchangeMs: number): void {
    this.playback.advanceTo(exchangeMs);
  }

  /**
   * Resolves once `count` open WebSocket connections subscribe to the klines of `symbol` at `timeframe`.
   *
   * @throws {@link "sim/config"!SimulatorConfigError | SimulatorConfigError} when that market is not simulated.
   */
  waitForSubscribers(symbol: string, timeframe: Timeframe, count = 1): Promise<void> {
    const tape = this.playback.tapes.find((t) => t.symbol === symbol && t.timeframe === timeframe);
    if (tape === undefined) {
      throw new SimulatorConfigError(`waitForSubscribers: ${symbol} ${timeframe} is not a simulated market`);
    }
    return this.hub.waitForSubscribers(tape.streamName, count);
  }

  /** Every REST request received so far, in order of arrival, with its real and exchange arrival times and answer. */
  get requestLog(): readonly RestRequestRecord[] {
    return this.requests.log;
  }

  /**
   * Answers the next REST request with the given fault, whatever the configured triggers: `rest429` (with
   * `faults.rest429.retryAfterSec`, default 1 s) or `rest500`.
   */
  failNextRequest(kind: 'rest429' | 'rest500'): void {
    this.faults.fireNext(kind);
  }

  /**
   * Holds back the answer to the next order that passes the signature check, whatever the configured triggers (the
   * `orderTimeout` fault: the order executes and is stored, its answer comes after `faults.orderTimeout.answerAfterMs`
   * real ms, by default never).
   */
  holdNextOrderAnswer(): void {
    this.faults.fireNext('orderTimeout');
  }

  /** A snapshot of the counters. */
  get stats(): SimulatorStats {
    const ws = this.hub.counts();
    const faults = this.faults.counts();
    return {
      restRequests: this.requests.requests(),
      wsConnections: ws.connections,
      wsOpenConnections: ws.openConnections,
      wsFramesSent: ws.framesSent,
      klineEvents: this.playback.eventsEmitted(),
      faults: faults.byKind,
      malformedByKind: faults.malformedByKind,
    };
  }

  /** Stops the clock's playback, destroys every connection and closes the server. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.playback.stop();
    this.hub.closeAll();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Validates `config`, builds the markets' tapes and starts the HTTP + WebSocket server on 127.0.0.1.
 *
 * @returns the running {@link Simulator}; its clock starts at `config.startTime` now.
 * @throws {@link "sim/config"!SimulatorConfigError | SimulatorConfigError} / `InvalidCandleError` for a bad
 *   configuration (see `validateConfig`), or when a `faults.revision.openTimes` entry is no candle's open time; the
 *   listen error (e.g. `EADDRINUSE`) when the port is taken.
 */
export async function startSimulator(config: SimulatorConfig): Promise<Simulator> {
  validateConfig(config);
  const seed = config.seed ?? 1;
  const updates = config.updatesPerCandle ?? 3;
  const revision = config.faults?.revision;
  const revisedOpenTimes = new Set(revision?.openTimes ?? []);
  const tapes = config.markets.map((m) =>
    buildTape(m, updates, {
      rate: revision?.rate ?? 0,
      openTimes: revisedOpenTimes,
      volumeFactor: revision?.volumeFactor ?? 1.25,
      closes: new Map((revision?.closes ?? []).map((r) => [r.openTime, r.close])),
      after: config.startTime,
      rng: namedRng(seed, `revision ${m.symbol} ${m.timeframe}`),
    }),
  );
  for (const t of revisedOpenTimes) {
    if (!tapes.some((tape) => tape.candles.openTime[lowerBound(tape.candles.openTime, t)] === t)) {
      throw new SimulatorConfigError(`simulator config: faults.revision.openTimes holds ${t}, the open time of no candle`);
    }
  }
  const faults = new FaultInjector(config.faults ?? {}, seed);
  const hub = new StreamHub(faults);
  const requests = new RequestMeter();
  const playback = new Playback(tapes, new SimClock(config.startTime, config.speed), hub, config.startTime);
  const wss = new WebSocketServer({ noServer: true });
  const account = config.account === undefined ? null : new SimAccount(config.account, tapes, () => playback.now());
  const desk = new OrderDesk(account === null ? null : { apiKey: config.account!.apiKey, secret: config.account!.secret, state: account }, faults);
  const server = createServer((req, res) => handleRest(req, res, { tapes, desk, now: () => playback.now(), faults }, requests));
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    const known = path === '/ws' || path.startsWith('/ws/') || path === '/stream' || path.startsWith('/stream/');
    if (!known) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => hub.accept(ws, path, url.searchParams));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    playback.stop();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  return new Simulator(port, server, wss, hub, faults, playback, requests, account);
}
