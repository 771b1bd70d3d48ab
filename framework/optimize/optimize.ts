/**
 * `npm run optimize`'s library call: a walk-forward parameter search of a strategy over its stored candles, trials
 * run on every core, recorded durably, resumable.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { brokerConfig, type BrokerConfig } from '../broker/broker-config';
import { batchLength } from '../core/candle';
import { CorruptDataError, DatasetNotFoundError, FrameworkError, messageOf } from '../core/errors';
import type { Logger } from '../core/logger';
import { runnableFile } from '../core/runtime';
import { describeSubscription } from '../core/subscription';
import { timeframeGrid } from '../core/timeframe';
import { replayCandles } from '../feeds/replay';
import { writeArtifact } from '../report/artifact';
import { mkdirDurable } from '../store/durable';
import type { ParameterValue, StrategyParameters } from '../strategy/base-strategy';
import { loadStrategy } from '../strategy/loader';
import { hashParameters, parseRange, valueAt, type ParameterRange } from '../strategy/parameters';
import { AmqpTrialRunner, type TrialSource } from './amqp-trials';
import { score, type Constraints, type ObjectiveName } from './objective';
import { deflatedSharpe } from './overfitting';
import { createSampler, type SamplerName } from './samplers';
import { shareBatch, type TrialRequest, type TrialResult } from './trial';
import { TrialLog, writeTrialsParquet, type TrialRow } from './trial-log';
import type { TrialWorkerData } from './trial-worker';
import { walkForwardWindows, type WalkForwardWindow } from './windows';

/** What to optimise and how; times are UTC epoch ms. Defaults in brackets. */
export interface OptimizeOptions {
  /** The strategy plugin, e.g. `strategies/macd.ts`. */
  readonly file: string;
  /** Candle store root [`datasets`] and where `optimize-<id>/` goes [`runs`]. */
  readonly datasetsRoot?: string;
  readonly runsRoot?: string;
  /** The range searched and validated, `[from, to)` [the whole dataset]. */
  readonly from?: number;
  readonly to?: number;
  /** Paper broker settings (as the backtest takes them). */
  readonly broker?: Partial<BrokerConfig>;
  /** Range overrides from the command line, `{ fast: "5..20" }` (see `parseRange`). */
  readonly space?: Readonly<Record<string, string>>;
  /** [`sharpe`] and constraints [at least 0 trades]. */
  readonly objective?: ObjectiveName;
  readonly minTrades?: number;
  /** [`tpe`], trials per window [100], walk-forward windows [4], anchored windows [rolling], seed [1]. */
  readonly sampler?: SamplerName;
  readonly trials?: number;
  readonly windows?: number;
  readonly anchored?: boolean;
  readonly seed?: number;
  /**
   * Trials proposed together [8]: each batch's proposals see the results of the batches before it only, so the trials
   * are the same whatever the number of threads or the order they finish in.
   */
  readonly batch?: number;
  /** Grid cells per float parameter without a step [5]. */
  readonly gridPoints?: number;
  /** Worker threads [the machine's available parallelism]. */
  readonly threads?: number;
  /**
   * A RabbitMQ URL (`amqp://user:password@host:port`): trials go to the workers of `npm run optimize-worker` instead
   * of local threads (see `optimize/amqp-trials`). The trials and their results are the same.
   */
  readonly bus?: string;
  /** Called after each finished trial with (done, total), counting trials found done in the log. */
  readonly onProgress?: (done: number, total: number) => void;
  /** When aborted, the search stops after the trials in flight, writes `trials.parquet` and returns. */
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
}

/** The configuration an optimisation directory is named after (hash) and records (`optimize.json`). */
export interface OptimizeConfig {
  readonly strategy: { readonly file: string; readonly name: string; readonly defaults: StrategyParameters };
  readonly space: Readonly<Record<string, ParameterRange>>;
  readonly market: string;
  readonly firstCandle: number;
  readonly lastCandle: number;
  readonly candles: number;
  readonly broker: BrokerConfig;
  readonly objective: ObjectiveName;
  readonly constraints: Constraints;
  readonly sampler: SamplerName;
  readonly trials: number;
  readonly windows: number;
  readonly anchored: boolean;
  readonly seed: number;
  readonly batch: number;
  readonly gridPoints: number;
}

/**
 * One walk-forward window's outcome: the in-sample trial chosen (best feasible score, earliest on ties; null when none
 * is feasible), its out-of-sample row, and the deflated Sharpe ratio of the chosen trial among the window's trials.
 */
export interface WindowResult {
  readonly window: WalkForwardWindow;
  readonly trials: number;
  readonly chosen: TrialRow | null;
  readonly outOfSample: TrialRow | null;
  readonly deflatedSharpe: number | null;
}

/** What {@link optimize} did, and where its files are. */
export interface OptimizeResult {
  readonly id: string;
  readonly dir: string;
  readonly config: OptimizeConfig;
  readonly windows: readonly WindowResult[];
  /** Every trial row, ordered by window, in-sample index, then out-of-sample. */
  readonly rows: readonly TrialRow[];
  /** Trials run by this call (the others were in the log). */
  readonly ran: number;
  /** False when stopped by `signal` before the end. */
  readonly complete: boolean;
}

/** File names inside `runs/optimize-<id>/`. */
export const OPTIMIZE_CONFIG_FILE = 'optimize.json';

/**
 * Runs a walk-forward optimisation into `runs/optimize-<id>/`, `<id>` a hash of the configuration (strategy, space,
 * candles, broker, objective, sampler, trials, windows, seed), so that the same command finds its directory again and
 * resumes: trials already in `trials.jsonl` are not run again, and, the samplers being deterministic, the rest are the
 * trials the first run would have run.
 *
 * The candles are read once and put in shared memory; a pool of worker threads (piscina) runs the trials. For each
 * window, the sampler proposes `trials` parameter sets in batches; each trial is appended to `trials.jsonl` (fsynced)
 * as it finishes, and `trials.parquet` is rewritten after each batch. The window's chosen parameters are then run on
 * the next span only (out of sample).
 *
 * @throws {@link "core/errors"!StrategyLoadError | StrategyLoadError} for a bad strategy or space;
 *   {@link DatasetNotFoundError} when there are no candles; {@link FrameworkError} for bad options or windows too short
 *   for the warm-up; {@link CorruptDataError} when the log disagrees with the configuration.
 */
export async function optimize(options: OptimizeOptions): Promise<OptimizeResult> {
  const loaded = await loadStrategy(options.file);
  const strategy = loaded.strategy;
  const space = searchSpace(options.file, strategy.space, strategy.params, options.space ?? {});
  const datasetsRoot = options.datasetsRoot ?? 'datasets';
  const range = {
    ...(options.from !== undefined && { from: options.from }),
    ...(options.to !== undefined && { to: options.to }),
    ...(options.logger !== undefined && { logger: options.logger }),
  };
  const [subscription, ...informativeSubscriptions] = loaded.subscriptions;
  const traded = replayCandles(datasetsRoot, subscription!, range);
  const n = batchLength(traded);
  if (n === 0) throw new DatasetNotFoundError(`no candles for ${describeSubscription(subscription!)} in the range asked for`);
  const config: OptimizeConfig = {
    strategy: { file: options.file, name: strategy.name, defaults: { ...strategy.params } },
    space,
    market: describeSubscription(subscription!),
    firstCandle: traded.openTime[0]!,
    lastCandle: traded.openTime[n - 1]!,
    candles: n,
    broker: brokerConfig(options.broker),
    objective: options.objective ?? 'sharpe',
    constraints: { minTrades: options.minTrades ?? 0 },
    sampler: options.sampler ?? 'tpe',
    trials: options.trials ?? 100,
    windows: options.windows ?? 4,
    anchored: options.anchored ?? false,
    seed: options.seed ?? 1,
    batch: options.batch ?? 8,
    gridPoints: options.gridPoints ?? 5,
  };
  if (config.objective === 'strategy' && strategy.objective === undefined) {
    throw new FrameworkError(`--objective strategy: ${options.file} declares no objective (add \`override readonly objective = (metrics) => …\`)`);
  }
  if (!Number.isInteger(config.batch) || config.batch < 1) throw new FrameworkError(`--batch ${config.batch}: expected a whole number ≥ 1`);
  const windows = walkForwardWindows(traded.openTime, timeframeGrid(subscription!.timeframe), config.windows, config.anchored, strategy.warmup + 2);
  const id = createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 12);
  const dir = join(options.runsRoot ?? 'runs', `optimize-${id}`);
  mkdirDurable(dir);
  const configFile = join(dir, OPTIMIZE_CONFIG_FILE);
  if (!existsSync(configFile)) writeArtifact(configFile, `${JSON.stringify({ id, ...config }, null, 2)}\n`);
  else if (JSON.parse(readFileSync(configFile, 'utf8')).id !== id) throw new CorruptDataError(`${configFile} belongs to another optimisation`);

  const names = Object.keys(space);
  const samplers = windows.map((w) =>
    createSampler({ name: config.sampler, ranges: names.map((k) => space[k]!), trials: config.trials, seed: config.seed, window: w.index, gridPoints: config.gridPoints }),
  );
  const total = samplers.reduce((sum, s) => sum + s.trials + 1, 0);
  const log = TrialLog.open(dir);
  const done = new Map(log.rows.map((r) => [r.id, r]));
  const source: TrialSource = {
    file: options.file,
    datasetsRoot,
    broker: config.broker,
    ...(options.from !== undefined && { from: options.from }),
    ...(options.to !== undefined && { to: options.to }),
  };
  const runner = options.bus !== undefined ? await AmqpTrialRunner.open(options.bus, id) : null;
  const pool =
    runner !== null
      ? null
      : new Piscina<TrialRequest, TrialResult>({
          filename: pathToFileURL(runnableFile(fileURLToPath(new URL('./trial-worker.ts', import.meta.url)))).href,
          workerData: {
            file: options.file,
            traded: shareBatch(traded),
            informative: informativeSubscriptions.map((s) => [describeSubscription(s), shareBatch(replayCandles(datasetsRoot, s, range))] as const),
            broker: config.broker,
          } satisfies TrialWorkerData,
          minThreads: options.threads ?? availableParallelism(),
          maxThreads: options.threads ?? availableParallelism(),
        });
  let ran = 0;
  let finished = done.size;
  options.onProgress?.(finished, total);
  const run = async (trialId: string, request: TrialRequest, row: (result: TrialResult) => TrialRow): Promise<TrialRow> => {
    let result: TrialResult;
    try {
      result = await (pool !== null ? pool.run(request) : runner!.run(trialId, source, request));
    } catch (error) {
      throw new FrameworkError(`trial ${hashParameters(request.params)} (${JSON.stringify(request.params)}): ${messageOf(error)}`, { cause: error });
    }
    const made = row(result);
    log.append(made);
    done.set(made.id, made);
    ran += 1;
    options.onProgress?.(++finished, total);
    return made;
  };
  const scoreOf = (result: TrialResult) => score(result.metrics, config.objective, config.constraints, strategy.objective);
  const results: WindowResult[] = [];
  let complete = true;
  try {
    search: for (const window of windows) {
      const sampler = samplers[window.index]!;
      const { from, to } = window.inSample;
      for (let start = 0; start < sampler.trials; start += config.batch) {
        if (options.signal?.aborted === true) {
          complete = false;
          break search;
        }
        const history = inSampleRows(done, window.index, start).map((r) => ({ point: r.point, score: r.score }));
        const batch = [];
        for (let index = start; index < Math.min(start + config.batch, sampler.trials); index++) {
          const point = sampler.point(index, history);
          const params: StrategyParameters = { ...strategy.params };
          names.forEach((name, d) => (params[name] = valueAt(space[name]!, point[d]!)));
          const trialId = `w${window.index}-t${index}`;
          const logged = done.get(trialId);
          if (logged !== undefined) {
            if (hashParameters(logged.params) !== hashParameters(params)) {
              throw new CorruptDataError(`${join(dir, 'trials.jsonl')}: trial ${trialId} ran ${JSON.stringify(logged.params)}, but this search proposes ${JSON.stringify(params)}`);
            }
            continue;
          }
          batch.push(
            run(trialId, { params, from, to }, (result) => ({
              id: trialId, window: window.index, sample: 'in', index, params, point, score: scoreOf(result), from, to,
              ...resultFields(result),
            })),
          );
        }
        await Promise.all(batch);
        writeTrialsParquet(dir, orderedRows(done));
      }
      const inSample = inSampleRows(done, window.index, sampler.trials);
      const chosen = bestRow(inSample);
      let outOfSample = done.get(`w${window.index}-oos`) ?? null;
      if (chosen !== null && outOfSample === null) {
        const { from: oosFrom, to: oosTo } = window.outOfSample;
        outOfSample = await run(`w${window.index}-oos`, { params: chosen.params, from: oosFrom, to: oosTo, equity: true }, (result) => ({
          id: `w${window.index}-oos`, window: window.index, sample: 'out', index: -1, params: chosen.params, point: [],
          score: scoreOf(result), from: oosFrom, to: oosTo, ...resultFields(result),
          ...(result.equity !== undefined && { equity: thin(result.equity, 1000) }),
        }));
      }
      if (chosen === null) options.logger?.warn(`window ${window.index}: no trial met the constraints; nothing to score out of sample`);
      results.push({ window, trials: inSample.length, chosen, outOfSample, deflatedSharpe: windowDeflatedSharpe(chosen, inSample) });
    }
  } finally {
    await pool?.destroy();
    await runner?.close();
    log.close();
    writeTrialsParquet(dir, orderedRows(done));
  }
  return { id, dir, config, windows: results, rows: orderedRows(done), ran, complete };
}

/**
 * The search space: the strategy's declared ranges with the command line's `--space` overrides.
 *
 * @throws {@link FrameworkError} for an unknown parameter or a malformed range.
 */
function searchSpace(
  file: string,
  declared: Readonly<Record<string, ParameterRange>>,
  params: Readonly<StrategyParameters>,
  overrides: Readonly<Record<string, string>>,
): Record<string, ParameterRange> {
  const space: Record<string, ParameterRange> = { ...declared };
  for (const [name, text] of Object.entries(overrides)) {
    if (!Object.hasOwn(params, name)) {
      throw new FrameworkError(`--space ${name}=${text}: ${file} has no parameter "${name}"; parameters are: ${Object.keys(params).join(', ')}`);
    }
    const range = parseRange(name, text, declared[name], params[name] as ParameterValue);
    if (typeof range === 'string') throw new FrameworkError(range);
    space[name] = range;
  }
  return space;
}

function resultFields(result: TrialResult): Pick<TrialRow, 'candles' | 'metrics' | 'sharpePerCandle' | 'skewness' | 'kurtosis'> {
  const { moments } = result;
  return {
    candles: result.candles,
    metrics: result.metrics,
    sharpePerCandle: moments.std > 0 ? moments.mean / moments.std : null,
    skewness: moments.skewness,
    kurtosis: moments.kurtosis,
  };
}

/** In-sample rows of `window` with index < `end`, in index order. */
function inSampleRows(done: ReadonlyMap<string, TrialRow>, window: number, end: number): TrialRow[] {
  return Array.from({ length: end }, (_, i) => done.get(`w${window}-t${i}`)).filter((r): r is TrialRow => r !== undefined);
}

/** Rows by window, then in-sample index, out of sample last. */
function orderedRows(done: ReadonlyMap<string, TrialRow>): TrialRow[] {
  return [...done.values()].sort((a, b) => a.window - b.window || (a.index < 0 ? 1 : 0) - (b.index < 0 ? 1 : 0) || a.index - b.index);
}

/** The feasible row with the highest score, the earliest on ties; null when none is feasible. */
export function bestRow(rows: readonly TrialRow[]): TrialRow | null {
  let best: TrialRow | null = null;
  for (const row of rows) if (row.score !== null && (best === null || row.score > best.score!)) best = row;
  return best;
}

function windowDeflatedSharpe(chosen: TrialRow | null, rows: readonly TrialRow[]): number | null {
  if (chosen === null || chosen.sharpePerCandle === null) return null;
  return deflatedSharpe({
    sharpe: chosen.sharpePerCandle,
    trialSharpes: rows.map((r) => r.sharpePerCandle).filter((s): s is number => s !== null),
    observations: chosen.candles - 1,
    skewness: chosen.skewness,
    kurtosis: chosen.kurtosis,
  });
}

/** At most about `points` evenly spaced points of a curve, its last point always kept. */
function thin(curve: { readonly time: readonly number[]; readonly equity: readonly number[] }, points: number) {
  const step = Math.max(1, Math.ceil(curve.time.length / points));
  const keep = curve.time.map((_, i) => i).filter((i) => i % step === 0 || i === curve.time.length - 1);
  return { time: keep.map((i) => curve.time[i]!), equity: keep.map((i) => curve.equity[i]!) };
}
