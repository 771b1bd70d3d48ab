/**
 * `npm run check`'s library call: loads a strategy and its candles and runs the lookahead and warm-up analyses.
 *
 * @module
 */
import { batchLength } from '../core/candle';
import { DatasetNotFoundError } from '../core/errors';
import type { Logger } from '../core/logger';
import { describeSubscription, type Subscription } from '../core/subscription';
import { replayCandles } from '../feeds/replay';
import { loadStrategy } from '../strategy/loader';
import { analyseLookahead, type LookaheadOptions, type LookaheadResult } from './lookahead';
import { analyseWarmup, type WarmupOptions, type WarmupResult } from './warmup';

/** What to check. Times are UTC epoch ms. */
export interface CheckOptions {
  /** The strategy plugin, e.g. `strategies/macd.ts`. */
  readonly file: string;
  /** Parameter overrides as strings (`--param fast=10`). */
  readonly params?: Readonly<Record<string, string>>;
  /** Root of the candle store; default `datasets`. */
  readonly datasetsRoot?: string;
  /** First candle open time to include (inclusive). */
  readonly from?: number;
  /** Open time to stop before (exclusive). */
  readonly to?: number;
  readonly lookahead?: LookaheadOptions;
  readonly warmup?: WarmupOptions;
  /** Warnings about the stored candles. */
  readonly logger?: Logger;
}

/**
 * The outcome of a check: what was checked (strategy name, plugin file, market, open times of the first and last
 * candle, UTC epoch ms, and their count), both analyses, and `passed`: no lookahead bias and a long enough warm-up.
 */
export interface CheckResult {
  readonly file: string;
  readonly strategy: string;
  readonly subscription: Subscription;
  readonly candles: { readonly count: number; readonly first: number; readonly last: number };
  readonly lookahead: LookaheadResult;
  readonly warmup: WarmupResult;
  readonly passed: boolean;
}

/**
 * Loads the strategy, replays its first subscription's stored candles through the candle pipeline and runs
 * {@link analyseLookahead} and {@link analyseWarmup} on them.
 *
 * @throws {@link "core/errors"!StrategyLoadError | StrategyLoadError} /
 *   {@link "core/errors"!StrategyRuntimeError | StrategyRuntimeError} /
 *   {@link "core/errors"!LookaheadError | LookaheadError} naming the strategy file; {@link DatasetNotFoundError} when
 *   the dataset is missing or the range holds no candles; FrameworkError for options out of range or too few candles.
 */
export async function runCheck(options: CheckOptions): Promise<CheckResult> {
  const loaded = await loadStrategy(options.file, options.params);
  const subscription = loaded.subscriptions[0]!;
  const candles = replayCandles(options.datasetsRoot ?? 'datasets', subscription, {
    ...(options.from !== undefined && { from: options.from }),
    ...(options.to !== undefined && { to: options.to }),
    ...(options.logger !== undefined && { logger: options.logger }),
  });
  const count = batchLength(candles);
  if (count === 0) throw new DatasetNotFoundError(`no candles for ${describeSubscription(subscription)} in the range asked for`);
  const informative = new Map(
    loaded.subscriptions
      .slice(1)
      .map((s) => [describeSubscription(s), replayCandles(options.datasetsRoot ?? 'datasets', s, { ...(options.to !== undefined && { to: options.to }) })]),
  );
  const lookahead = await analyseLookahead(loaded.strategy, options.file, candles, { ...options.lookahead, informative });
  const warmup = await analyseWarmup(loaded.strategy, options.file, candles, { ...options.warmup, informative });
  return {
    file: options.file,
    strategy: loaded.strategy.name,
    subscription,
    candles: { count, first: candles.openTime[0]!, last: candles.openTime[count - 1]! },
    lookahead,
    warmup,
    passed: !lookahead.biased && warmup.enough,
  };
}
