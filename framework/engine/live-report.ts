/**
 * The end of a live run, shared by `npm run live` ({@link "node/live"!runLive | runLive}) and the trading node's
 * workers: the informative histories as the engine takes them, and the report written at the stop.
 *
 * @module
 */
import type { PaperBroker } from '../broker/paper-broker';
import { sliceBatch, type StoredCandle } from '../core/candle';
import { describeSubscription, type Subscription } from '../core/subscription';
import { writeHtmlReport } from '../report/html-report';
import { computeMetrics } from '../report/metrics';
import type { RunSummary } from '../report/run-summary';
import { writeRunArtifacts } from '../report/run-writer';
import type { Engine, InformativeCandles } from './engine';
import type { TimeframeGrid } from '../core/timeframe';
import type { CandleHistory } from './history';

/** One subscription of a live run as the report needs it: the traded one first, then the informative ones. */
export interface MarketHistory {
  readonly subscription: Subscription;
  readonly history: CandleHistory;
}

/**
 * Whether the traded candle opening at `openTime` (on the traded `grid`) must still wait for an informative
 * subscription: until each one's history holds every candle that closed with it (a 1h candle closing with a 15m one is
 * visible to it, as in the replay). The barrier of a live run, across feeds or bus routing keys.
 */
export function waitsForInformative(
  grid: TimeframeGrid,
  openTime: number,
  informative: readonly { readonly grid: TimeframeGrid; readonly history: CandleHistory }[],
): boolean {
  const closes = grid.nextOpen(openTime);
  return informative.some((m) => m.grid.nextOpen(m.grid.nextOpen(m.history.lastOpenTime ?? -Infinity)) <= closes);
}

/** The informative subscriptions' histories, keyed as the engine expects. */
export function informativeCandles(markets: readonly MarketHistory[]): InformativeCandles {
  return new Map(markets.slice(1).map((m) => [describeSubscription(m.subscription), m.history.batch]));
}

/** Closes the position at the last candle and writes the summary, trades, equity curve and HTML report. */
export async function writeReport(
  dir: string,
  runId: string,
  startedAt: number,
  engine: Engine,
  broker: PaperBroker,
  markets: readonly MarketHistory[],
  liveCandles: readonly StoredCandle[],
  exposedBefore: number,
): Promise<RunSummary> {
  const traded = markets[0]!;
  const first = liveCandles[0]!;
  const last = liveCandles[liveCandles.length - 1]!;
  broker.closeAll(last);
  const curve = broker.equityCurve;
  const finishedAt = Date.now();
  const summary: RunSummary = {
    runId,
    mode: 'live',
    strategy: { name: engine.identity.name, parameters: engine.identity.parameters },
    subscription: traded.subscription,
    timeframe: traded.subscription.timeframe,
    firstCandle: first.openTime,
    lastCandle: last.openTime,
    candles: liveCandles.length,
    broker: broker.config,
    metrics: computeMetrics({
      equity: curve.equity,
      time: curve.time,
      timeframe: traded.subscription.timeframe,
      trades: broker.trades,
      firstOpen: first.open,
      lastClose: last.close,
      exposedCandles: broker.exposedCandles - exposedBefore,
    }),
    startedAt,
    finishedAt,
    durationMs: finishedAt - startedAt,
  };
  await writeRunArtifacts(dir, { summary, trades: broker.trades, equity: curve });
  // The page shows the live span with some history before it for context.
  const history = traded.history.batch;
  const end = history.openTime.lastIndexOf(last.openTime) + 1;
  const start = Math.max(0, end - liveCandles.length - 500);
  const columns = await engine.frameColumns(sliceBatch(history, 0, end), informativeCandles(markets));
  writeHtmlReport(dir, {
    summary,
    candles: sliceBatch(history, start, end),
    indicators: Object.fromEntries(Object.entries(columns).map(([name, values]) => [name, values.subarray(start, end)])),
    trades: broker.trades,
    signals: engine.signals,
    equity: curve,
  });
  return summary;
}

