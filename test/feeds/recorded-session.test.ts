/**
 * A real Binance WebSocket session (USDⓈ-M futures, 2021-07-22 22:25:41 → 22:26:11, combined streams of four symbols;
 * ../shared/data/BINANCE_FUTURES.ws.1.0, © 2017-2021 Bryant Moscon, cryptofeed) replayed through the live path:
 * each recorded frame goes into a real ccxt.pro WebSocket client exactly as received from the socket (ccxt's JSON
 * parse, envelope unwrapping and dispatch), through the kline tap, into one ClosedCandleDetector per symbol.
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { StoredCandle } from '../../framework/core/candle';
import { BinanceKlineTap } from '../../framework/feeds/live/binance-tap';
import { ClosedCandleDetector } from '../../framework/pipeline/closed-candles';
import { memoryLogger } from './support';
import { SHARED_DATA } from '../support/shared-data';

const SESSION = path.join(SHARED_DATA, 'BINANCE_FUTURES.ws.1.0');

interface RecordedFrame {
  readonly receivedAt: number;
  readonly text: string;
}

/** The session file: line 1 is `<url> <-> <connect time>`, then `<receive unix seconds>: <frame>` per line. */
function readSession(): { url: string; frames: RecordedFrame[] } {
  const [header = '', ...lines] = readFileSync(SESSION, 'utf8').split('\n');
  const frames = lines
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const colon = line.indexOf(': ');
      return { receivedAt: Math.round(Number(line.slice(0, colon)) * 1000), text: line.slice(colon + 2) };
    });
  return { url: header.split(' <-> ')[0]!, frames };
}

describe('recorded Binance session through the live parse path', () => {
  it('yields exactly the four candles closed at 22:26:00 and no forming candle', () => {
    const { url, frames } = readSession();
    // Independently: the kline frames flagged closed, read with plain JSON.parse.
    const expected = frames
      .map((f) => ({ f, message: JSON.parse(f.text) as { data: { e: string; k: Record<string, unknown> } } }))
      .filter(({ message }) => message.data.e === 'kline' && message.data.k['x'] === true)
      .map(({ f, message }) => {
        const k = message.data.k;
        return {
          symbol: k['s'] as string,
          candle: {
            openTime: k['t'] as number,
            open: Number(k['o']),
            high: Number(k['h']),
            low: Number(k['l']),
            close: Number(k['c']),
            volume: Number(k['v']),
            source: 'websocket',
            receivedAt: f.receivedAt,
          },
        };
      });
    expect(expected).toHaveLength(4);
    expect(new Set(expected.map((e) => e.candle.openTime))).toEqual(new Set([Date.UTC(2021, 6, 22, 22, 25)]));

    const exchange = new BinanceKlineTap({ options: { fetchCurrencies: false } });
    const { logger, lines } = memoryLogger();
    exchange.logger = logger;
    const client = exchange.client(url);
    const detectors = new Map<string, ClosedCandleDetector>();
    const emitted: { symbol: string; candle: StoredCandle }[] = [];
    let badFrames = 0;
    const intervals = new Set<string>();
    let now = 0;
    exchange.receivedAtClock = () => now;
    exchange.addKlineListener({
      onKline: ({ marketId, interval, update }) => {
        intervals.add(interval);
        let detector = detectors.get(marketId);
        if (detector === undefined) {
          detector = new ClosedCandleDetector({
            timeframe: '1m',
            where: `binance futures ${marketId} 1m`,
            lastEmittedOpenTime: Date.UTC(2021, 6, 22, 22, 24),
            logger,
          });
          detectors.set(marketId, detector);
        }
        for (const candle of detector.update(update)) emitted.push({ symbol: marketId, candle });
      },
      onBadFrame: () => badFrames++,
    });
    for (const frame of frames) {
      now = frame.receivedAt;
      client.onMessage({ data: frame.text });
    }

    expect(badFrames).toBe(0);
    expect(intervals).toEqual(new Set(['1m']));
    expect(lines.filter((l) => l['level'] === 40)).toEqual([]);
    expect(detectors.size).toBe(4);
    const sortBySymbol = <T extends { symbol: string }>(xs: T[]): T[] => [...xs].sort((a, b) => a.symbol.localeCompare(b.symbol));
    expect(sortBySymbol(emitted)).toEqual(sortBySymbol(expected));
    // At the end of the session (22:26:11) the 22:26 candles are still forming: nothing more is due, over REST either.
    const end = frames[frames.length - 1]!.receivedAt;
    for (const detector of detectors.values()) {
      expect(detector.missingRange(end)).toBeNull();
      expect(detector.nextOpenTime).toBe(Date.UTC(2021, 6, 22, 22, 26));
    }
  });
});
