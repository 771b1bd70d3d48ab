/**
 * The simulator's WebSocket side: Binance spot market streams (`/ws`, `/ws/<streamName>`,
 * `/stream?streams=<a>/<b>`), live SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS / SET_PROPERTY / GET_PROPERTY, and
 * kline frame delivery with fault injection.
 *
 * Protocol after Binance's `web-socket-streams.md` (binance/binance-spot-api-docs): raw streams send the event itself,
 * combined streams wrap it as `{"stream": <name>, "data": <event>}`; requests are answered `{"result": …, "id": …}`,
 * bad requests `{"code": 2|3, "msg": …, "id": …}`. Not simulated: server pings, the 24 h connection limit, and the
 * 5 messages/s limit.
 *
 * @module
 */

import type { WebSocket } from 'ws';
import type { KlineEvent } from './binance-format';
import type { MalformedKind } from './config';
import type { FaultInjector } from './faults';

interface Connection {
  readonly socket: WebSocket;
  /** Combined-stream envelope on (`/stream`) or off (`/ws`); changeable with SET_PROPERTY. */
  combined: boolean;
  readonly streams: Set<string>;
  /** Frames with an event time before this exchange time are not sent (the `stall` fault). */
  stalledUntil: number;
  /** Frames held back by the `outOfOrder` fault, sent after the next frame. */
  held: string[];
}

interface Waiter {
  readonly streamName: string;
  readonly count: number;
  readonly resolve: () => void;
}

/** Counters of the WebSocket side. */
export interface StreamCounts {
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections open now. */
  readonly openConnections: number;
  /** Kline text frames written (duplicates and malformed frames included). */
  readonly framesSent: number;
}

/** Holds the open connections and their subscriptions, and delivers kline events to them. */
export class StreamHub {
  private readonly connections = new Set<Connection>();
  private waiters: Waiter[] = [];
  private accepted = 0;
  private sent = 0;

  constructor(private readonly faults: FaultInjector) {}

  /**
   * Takes over an upgraded socket. `path` and `query` are those of the upgrade request: `/ws` (raw, optionally
   * `/ws/<streamName>` subscribing to that stream) or `/stream` (combined, `?streams=a/b` subscribing to those).
   */
  accept(socket: WebSocket, path: string, query: URLSearchParams): void {
    const combined = path === '/stream' || path.startsWith('/stream/');
    const conn: Connection = { socket, combined, streams: new Set(), stalledUntil: -Infinity, held: [] };
    const initial = combined ? (query.get('streams') ?? '').split('/') : [path.slice('/ws/'.length)];
    for (const name of initial) if (name !== '') conn.streams.add(name);
    this.connections.add(conn);
    this.accepted += 1;
    socket.on('message', (data, isBinary) => this.onRequest(conn, isBinary ? '' : String(data)));
    socket.on('close', () => this.connections.delete(conn));
    socket.on('error', () => this.connections.delete(conn));
    this.notifyWaiters();
  }

  /** Delivers a kline event of stream `streamName` to every subscribed connection; `tfMs` sizes stalls/misalignment. */
  deliver(streamName: string, event: KlineEvent, tfMs: number): void {
    for (const conn of this.connections) {
      if (conn.streams.has(streamName)) this.deliverTo(conn, streamName, event, tfMs);
    }
  }

  /** Number of open connections subscribed to `streamName`. */
  subscribers(streamName: string): number {
    let n = 0;
    for (const conn of this.connections) if (conn.streams.has(streamName)) n += 1;
    return n;
  }

  /** Resolves once at least `count` open connections are subscribed to `streamName`. */
  waitForSubscribers(streamName: string, count: number): Promise<void> {
    if (this.subscribers(streamName) >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ streamName, count, resolve }));
  }

  /** Counters so far. */
  counts(): StreamCounts {
    return { connections: this.accepted, openConnections: this.connections.size, framesSent: this.sent };
  }

  /** Destroys every connection (no close frame). */
  closeAll(): void {
    for (const conn of this.connections) conn.socket.terminate();
    this.connections.clear();
  }

  private deliverTo(conn: Connection, streamName: string, event: KlineEvent, tfMs: number): void {
    if (event.E < conn.stalledUntil) return;
    const faults = this.faults.decideFrame();
    if (faults.drop) {
      this.faults.record('drop');
      this.connections.delete(conn);
      conn.socket.terminate();
      return;
    }
    if (faults.stall) {
      this.faults.record('stall');
      conn.stalledUntil = event.E + this.faults.stallDurationMs(tfMs);
      return;
    }
    let text: string;
    if (faults.malformed === null) {
      text = frameText(conn.combined, streamName, event);
    } else {
      this.faults.recordMalformed(faults.malformed);
      text = malformedText(conn.combined, streamName, event, faults.malformed, tfMs);
    }
    const copies = faults.duplicate ? [text, text] : [text];
    if (faults.duplicate) this.faults.record('duplicate');
    if (faults.outOfOrder && conn.held.length === 0) {
      this.faults.record('outOfOrder');
      conn.held = copies;
      return;
    }
    for (const t of [...copies, ...conn.held]) this.send(conn, t);
    conn.held = [];
  }

  private send(conn: Connection, text: string): void {
    if (conn.socket.readyState !== conn.socket.OPEN) return;
    conn.socket.send(text);
    this.sent += 1;
  }

  private onRequest(conn: Connection, text: string): void {
    const reply = (body: Record<string, unknown>): void => {
      if (conn.socket.readyState === conn.socket.OPEN) conn.socket.send(JSON.stringify(body));
    };
    let request: unknown;
    try {
      request = JSON.parse(text);
    } catch {
      reply({ code: 3, msg: 'Invalid JSON: expected value at line 1 column 1' });
      return;
    }
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      reply({ code: 2, msg: 'Invalid request: expected an object' });
      return;
    }
    const { method, params, id = null } = request as { method?: unknown; params?: unknown; id?: unknown };
    const names = Array.isArray(params) ? params : [];
    switch (method) {
      case 'SUBSCRIBE':
      case 'UNSUBSCRIBE':
        if (!names.every((n): n is string => typeof n === 'string')) {
          reply({ code: 2, msg: 'Invalid request: stream names must be strings', id });
          return;
        }
        for (const name of names) {
          if (method === 'SUBSCRIBE') conn.streams.add(name);
          else conn.streams.delete(name);
        }
        reply({ result: null, id });
        this.notifyWaiters();
        return;
      case 'LIST_SUBSCRIPTIONS':
        reply({ result: [...conn.streams], id });
        return;
      case 'SET_PROPERTY':
        if (names[0] !== 'combined') reply({ code: 0, msg: 'Unknown property', id });
        else if (typeof names[1] !== 'boolean') reply({ code: 1, msg: 'Invalid value type: expected Boolean', id });
        else {
          conn.combined = names[1];
          reply({ result: null, id });
        }
        return;
      case 'GET_PROPERTY':
        if (names[0] !== 'combined') reply({ code: 0, msg: 'Unknown property', id });
        else reply({ result: conn.combined, id });
        return;
      default:
        reply({
          code: 2,
          msg: `Invalid request: unknown variant ${JSON.stringify(method)}, expected one of \`SUBSCRIBE\`, \`UNSUBSCRIBE\`, \`LIST_SUBSCRIPTIONS\`, \`SET_PROPERTY\`, \`GET_PROPERTY\``,
          id,
        });
    }
  }

  private notifyWaiters(): void {
    const pending: Waiter[] = [];
    for (const w of this.waiters) {
      if (this.subscribers(w.streamName) >= w.count) w.resolve();
      else pending.push(w);
    }
    this.waiters = pending;
  }
}

function frameText(combined: boolean, streamName: string, event: KlineEvent): string {
  return JSON.stringify(combined ? { stream: streamName, data: event } : event);
}

function malformedText(
  combined: boolean,
  streamName: string,
  event: KlineEvent,
  kind: MalformedKind,
  tfMs: number,
): string {
  const k = { ...event.k };
  switch (kind) {
    case 'json': {
      const text = frameText(combined, streamName, event);
      return text.slice(0, Math.floor(text.length / 2));
    }
    case 'nan':
      k.c = 'NaN';
      break;
    case 'highBelowLow':
      [k.h, k.l] = [k.l, k.h];
      break;
    case 'misaligned': {
      const shift = Math.floor(tfMs / 2);
      k.t += shift;
      k.T += shift;
      break;
    }
  }
  return frameText(combined, streamName, { ...event, k });
}
