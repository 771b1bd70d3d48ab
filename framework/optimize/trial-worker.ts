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
import { importTypeScript, runsFromBuild } from '../core/runtime';
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
let plugin: Promise<StrategyPlugin> | undefined;

/**
 * The strategy module, imported once per worker: compiled against the build when the process runs from it (see
 * {@link importTypeScript}), else with `require`: piscina loads this file with `require`, and on Node 20 a worker
 * thread gets tsx's CommonJS hook but not its ESM one.
 */
async function loadPlugin(): Promise<StrategyPlugin> {
  const file = path.resolve(data.file);
  const module = runsFromBuild() ? await importTypeScript(file) : (createRequire(import.meta.url)(file) as Record<string, unknown>);
  return { module, file: data.file };
}

/** Runs one trial (see {@link runTrial}). */
export default async function run(request: TrialRequest): Promise<TrialResult> {
  plugin ??= loadPlugin();
  return runTrial(await plugin, candles, request, data.broker);
}
