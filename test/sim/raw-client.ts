/**
 * A bare WebSocket client (the `ws` package) that records every text frame, for tests that must see exactly what the
 * simulator sends (ccxt hides `"x"`, duplicates and order).
 *
 * @module
 */

import WebSocket from 'ws';

interface Waiter {
  readonly ready: () => boolean;
  readonly resolve: () => void;
}

/** A connected raw client. */
export class RawClient {
  /** Every text frame received, in order. */
  readonly frames: string[] = [];
  private readonly klineFrames: KlineFrame[] = [];
  /** Resolves with the close code when the connection ends (1006 = dropped without a close frame). */
  readonly closed: Promise<number>;
  private waiters: Waiter[] = [];

  private constructor(private readonly socket: WebSocket) {
    this.closed = new Promise((resolve) => {
      socket.on('close', (code) => {
        resolve(code);
        this.check();
      });
    });
    socket.on('message', (data) => {
      const text = String(data);
      this.frames.push(text);
      const kline = parseKline(text);
      if (kline !== undefined) this.klineFrames.push(kline);
      this.check();
    });
  }

  /** Connects to `url` and resolves once open. */
  static async open(url: string): Promise<RawClient> {
    const socket = new WebSocket(url);
    const client = new RawClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  /** Sends a JSON request. */
  send(request: unknown): void {
    this.socket.send(JSON.stringify(request));
  }

  /** Resolves once at least `count` frames have arrived (or the connection closed). */
  waitForFrames(count: number): Promise<void> {
    return this.waitUntil(() => this.frames.length >= count);
  }

  /** Resolves once `ready()` holds (checked on every frame and on close). */
  waitUntil(ready: () => boolean): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ ready, resolve }));
  }

  /** Frames that parse as JSON objects carrying a kline event (`{e:'kline'}` raw or `{data:{e:'kline'}}` combined). */
  klines(): readonly KlineFrame[] {
    return this.klineFrames;
  }

  /** Closes the connection. */
  close(): void {
    this.socket.terminate();
  }

  private check(): void {
    const closed = this.socket.readyState === WebSocket.CLOSED;
    this.waiters = this.waiters.filter((w) => {
      if (!closed && !w.ready()) return true;
      w.resolve();
      return false;
    });
  }
}

function parseKline(text: string): KlineFrame | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const event = (parsed as { data?: unknown }).data ?? parsed;
  return (event as { e?: unknown }).e === 'kline' ? (event as KlineFrame) : undefined;
}

/** A Binance kline event as received. */
export interface KlineFrame {
  readonly e: 'kline';
  readonly E: number;
  readonly s: string;
  readonly k: {
    readonly t: number;
    readonly T: number;
    readonly s: string;
    readonly i: string;
    readonly f: number;
    readonly L: number;
    readonly o: string;
    readonly c: string;
    readonly h: string;
    readonly l: string;
    readonly v: string;
    readonly n: number;
    readonly x: boolean;
    readonly q: string;
    readonly V: string;
    readonly Q: string;
    readonly B: string;
  };
}
