/**
 * The worker-thread entry of `npm run optimize`'s pool (piscina): runs trials over the candles the pool was started
 * with (`workerData`, arrays in `SharedArrayBuffer`s shared by every worker) and returns each result.
 *
 * @module
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { workerData } from 'node:worker_threads';
import type { BrokerConfig } from '../broker/broker-config';
import type { CandleBatch } from '../core/candle';
import { enableTypeScriptRequire } from '../core/runtime';
import { raiseInliningBudget } from './inlining';
import { runTrial, type StrategyPlugin, type TrialCandles, type TrialRequest, type TrialResult } from './trial';

/** What every worker is started with. */
export interface TrialWorkerData {
  readonly file: string;
  readonly traded: CandleBatch;
  readonly informative: readonly (readonly [string, CandleBatch])[];
  readonly broker: BrokerConfig;
}

raiseInliningBudget(); // before this thread compiles a trial's code
const data = workerData as TrialWorkerData;
const candles: TrialCandles = { traded: data.traded, informative: new Map(data.informative) };
let plugin: StrategyPlugin | undefined;

/**
 * Runs one trial (see {@link runTrial}). The strategy module is imported once per worker with `require`: piscina
 * loads this file with `require`, and on Node 20 a worker thread gets tsx's CommonJS hook but not its ESM one (a
 * thread of a process running from the build registers it first).
 */
export default function run(request: TrialRequest): Promise<TrialResult> {
  if (plugin === undefined) enableTypeScriptRequire();
  plugin ??= { module: createRequire(import.meta.url)(path.resolve(data.file)) as Record<string, unknown>, file: data.file };
  return runTrial(plugin, candles, request, data.broker);
}
