/**
 * The records a run leaves behind: its summary and its signal journal.
 *
 * @module
 */
import type { BrokerConfig } from '../broker/broker-config';
import type { Candle, Provenance } from '../core/candle';
import type { Subscription } from '../core/subscription';
import type { Timeframe } from '../core/timeframe';
import type { StrategyParameters } from '../strategy/base-strategy';
import type { Signal, SignalAction } from '../strategy/signal';
import type { Metrics } from './metrics';

/** Whether a run replayed stored candles (`backtest`) or followed an exchange feed (`live`). */
export type RunMode = 'backtest' | 'live';

/**
 * Summary of one run, written as `summary.json`.
 *
 * - `runId`: see {@link "report/run-writer"!createRunDir | createRunDir}, e.g. `20240102-030405-SmaCross-1a2b`;
 * - `strategy`: the strategy's name and the parameter values the run used;
 * - `subscription`, `timeframe`: the traded market and its candle timeframe;
 * - `firstCandle`, `lastCandle`: open times (UTC epoch ms) of the first and last candle processed; `candles`: count;
 * - `metricsFrom`: open time of the first candle the metrics cover: a backtest leaves out the strategy's warm-up
 *   candles (as freqtrade leaves out its startup candles), so that its metrics cover the span a live run trades;
 *   absent: `firstCandle`;
 * - `broker`: the paper broker's configuration; `metrics`: see {@link Metrics};
 * - `startedAt`, `finishedAt`: wall-clock UTC epoch ms of the run's start and end; `durationMs` their difference.
 */
export interface RunSummary {
  readonly runId: string;
  readonly mode: RunMode;
  readonly strategy: { readonly name: string; readonly parameters: Readonly<StrategyParameters> };
  readonly subscription: Subscription;
  readonly timeframe: Timeframe;
  readonly firstCandle: number;
  readonly lastCandle: number;
  readonly candles: number;
  readonly metricsFrom?: number;
  readonly broker: BrokerConfig;
  readonly metrics: Metrics;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly durationMs: number;
}

/** Which strategy produced a signal: its name, parameter values and their {@link "strategy/parameters"!hashParameters | hashParameters} fingerprint. */
export interface StrategyIdentity {
  readonly name: string;
  readonly parameters: Readonly<StrategyParameters>;
  readonly parametersHash: string;
}

/**
 * One line of the signal journal (`signals.jsonl`): a signal a strategy returned on a closed candle.
 *
 * - `strategy`, `subscription`: who decided it, on which market;
 * - `openTime`: open time (UTC epoch ms) of the candle it was decided on; `candle`: that candle's OHLCV;
 * - `provenance`: where that candle came from (`import`, `resample`, `rest`, `websocket`) and when it was received;
 * - `action`: the signal's action; `signal`: the whole signal as returned;
 * - `indicators`: every frame column (OHLCV and indicators) at that candle, by column name;
 * - `acted`: whether the broker accepted it as an order; `reason`: why not (warm-up, already long, stale, …);
 * - `arrivedAt` (live runs): the exchange clock when its candle reached the run, UTC epoch ms (see `staleReason`).
 */
export interface SignalRecord {
  readonly strategy: StrategyIdentity;
  readonly subscription: Subscription;
  readonly openTime: number;
  readonly provenance: Provenance;
  readonly action: SignalAction;
  readonly signal: Signal;
  readonly candle: Candle;
  readonly indicators: Readonly<Record<string, number>>;
  readonly acted: boolean;
  readonly reason?: string;
  readonly arrivedAt?: number;
}

/** What a report counts of a signal: its candle's open time (UTC epoch ms), its action and the broker's decision. */
export type SignalOutcome = Pick<SignalRecord, 'openTime' | 'action' | 'acted' | 'reason'>;
