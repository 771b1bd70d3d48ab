/**
 * One case of the benchmark, run in a fresh process by `bench/run.ts` (so that no case inherits another's heap or
 * compiled code): `node --import tsx bench/case.ts <case> <runs>`. Progress goes to standard error; the case's
 * result is written to standard output as one JSON document.
 *
 * @module
 */
import path from 'node:path';
import { brokerConfig } from '../framework/broker/broker-config';
import { batchLength, sliceBatch } from '../framework/core/candle';
import { replayCandles } from '../framework/feeds/replay';
import { raiseInliningBudget } from '../framework/optimize/inlining';
import { runTrial } from '../framework/optimize/trial';
import { readDataset } from '../framework/store/partitions';
import { checkedBacktest, inProcessBacktest, MACD_1M, stagedBacktest } from './backtest';
import { BENCH_1M, BENCH_ROOT } from './data';
import { macdLoop } from './macd-loop';
import { latencyRun } from './live-latency';
import { nodeRun, type NodeRun } from './node';
import { startRabbitMq } from '../test/support/rabbitmq';
import { throughputRun, type ThroughputRun } from './live-throughput';
import { engineRun, rawLoop, type EngineRun } from './overhead';
import { median, repeat } from './stats';

/** The cases this entry point runs. */
const CHILD_CASES = ['overhead', 'backtest-stages', 'backtest-whole', 'lookahead', 'throughput', 'latency', 'optimize', 'node'] as const;
/** One of {@link CHILD_CASES}. */
type ChildCase = (typeof CHILD_CASES)[number];

/** Symbols and candles per symbol of each throughput run. */
const THROUGHPUT_PLAN: readonly (readonly [symbols: number, candlesPerSymbol: number])[] = [
  [1, 20_000],
  [10, 3_000],
  [100, 300],
];

/** Live candles and simulator speed of the latency run: a 15m candle every 60 ms. */
const LATENCY_CANDLES = 700;
const LATENCY_SPEED = 15_000;

/** Unmeasured warm-up runs of the optimisation case, per number of candles. */
const OPTIMIZE_WARMUPS = new Map([
  [100_000, 10],
  [1_000_000, 3],
]);

/**
 * One measurement of the optimisation case: a trial and the hand-written loop over the same candles, in wall-clock
 * time and in CPU time of this process (user + system: what a shared machine's other jobs do not add).
 */
export interface OptimizeRun {
  readonly candles: number;
  readonly trialMs: number;
  readonly loopMs: number;
  readonly trialCpuMs: number;
  readonly loopCpuMs: number;
  readonly trades: number;
  readonly loopTrades: number;
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);
/** CPU time this process has used so far (user + system), ms. */
const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const label = (run: number): string => (run < 0 ? 'warm-up' : `run ${run + 1}`);

async function runCase(name: ChildCase, runs: number): Promise<unknown> {
  switch (name) {
    case 'overhead': {
      const candles = readDataset(BENCH_ROOT, BENCH_1M);
      // Each run: three engine replays and three raw loops, interleaved; the run reports the median of each.
      return repeat(1, runs, async (run) => {
        const engines: EngineRun[] = [];
        const raws: number[] = [];
        for (let k = 0; k < 3; k++) {
          engines.push(await engineRun(candles));
          raws.push(rawLoop(candles));
        }
        const loopNsPerCandle = median(engines.map((e) => e.loopNsPerCandle));
        const replayNsPerCandle = median(engines.map((e) => e.replayNsPerCandle));
        const raw = median(raws);
        log(`  ${label(run)}: engine loop ${loopNsPerCandle.toFixed(1)} ns/candle, raw loop ${raw.toFixed(1)} ns/candle`);
        return { loopNsPerCandle, replayNsPerCandle, rawNsPerCandle: raw, ratio: loopNsPerCandle / raw, candles: batchLength(candles) };
      });
    }
    case 'backtest-stages':
      return repeat(1, runs, async (run) => {
        const stages = await stagedBacktest(MACD_1M);
        log(`  ${label(run)}: ${(stages.total / 1000).toFixed(2)} s, ${stages.signals} signals`);
        return stages;
      });
    case 'backtest-whole':
      return repeat(1, runs, async (run) => {
        const r = await inProcessBacktest(MACD_1M);
        log(`  ${label(run)}: ${(r.total / 1000).toFixed(2)} s (of which run files and report ${(r.report / 1000).toFixed(2)} s)`);
        return r;
      });
    case 'lookahead':
      return repeat(1, runs, async (run) => {
        const r = await checkedBacktest(MACD_1M);
        log(`  ${label(run)}: backtest ${(r.backtestMs / 1000).toFixed(2)} s, lookahead check ${(r.checkMs / 1000).toFixed(2)} s (${r.cuts} cuts)`);
        return r;
      });
    case 'throughput': {
      const out: ThroughputRun[] = [];
      for (const [symbols, perSymbol] of THROUGHPUT_PLAN) {
        log(`  ${symbols} symbol(s) × ${perSymbol} candles`);
        out.push(
          ...(await repeat(1, runs, async (run) => {
            const r = await throughputRun(symbols, perSymbol);
            log(
              `    ${label(run)}: ${Math.round(r.framesPerSecond).toLocaleString('en-US')} frames/s (${r.candles} candles in ${r.seconds.toFixed(2)} s, client CPU ${Math.round(100 * r.clientCpu)}%, ${r.fromRest} over REST)`,
            );
            return r;
          })),
        );
      }
      return out;
    }
    case 'latency':
      return latencyRun(LATENCY_CANDLES, LATENCY_SPEED);
    case 'node': {
      // Each run: the node on the in-process bus, then on a RabbitMQ server started here (one for all runs).
      const rabbit = await startRabbitMq();
      try {
        const out: NodeRun[] = [];
        for (const bus of ['in-process', rabbit.url]) {
          log(`  bus ${bus === 'in-process' ? bus : 'RabbitMQ'}`);
          out.push(
            ...(await repeat(0, runs, async (run) => {
              const r = await nodeRun(bus);
              const sorted = [...r.closeToSignalMs].sort((a, b) => a - b);
              log(
                `    ${label(run)}: start-up ${(r.startupMs / 1000).toFixed(1)} s, close-to-signal p50 ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} ms, ${Math.round(r.candlesPerSecond)} candles/s, worker RSS ${Math.round(Math.max(...r.workerRssMb))} MB max`,
              );
              return r;
            })),
          );
        }
        return out;
      } finally {
        await rabbit.dispose();
      }
    }
    case 'optimize': {
      // The candles are read once (as npm run optimize does) and every trial replays a span of them. Each measured
      // run: a full collection, the trial, a full collection, the loop, so that neither pays for collecting the
      // other's garbage (run.ts starts this process with --expose-gc). Warm-up runs first, as a worker of npm run
      // optimize has run many trials before most of its trials: V8 optimises the engine's loop, the broker and the
      // strategy over several trials (the first 100,000-candle trials of a process cost 2 to 5 times a later one),
      // the hand-written loop after one or two.
      raiseInliningBudget(); // as npm run optimize's trial workers do
      const all = replayCandles(BENCH_ROOT, BENCH_1M);
      const plugin = { module: (await import(path.resolve(MACD_1M))) as Record<string, unknown>, file: MACD_1M };
      const collect = (globalThis as { gc?: () => void }).gc ?? ((): void => undefined);
      const out: OptimizeRun[] = [];
      for (const count of [100_000, 1_000_000]) {
        const traded = sliceBatch(all, 0, count);
        const request = { params: { fast: 12, slow: 26, signal: 9 }, from: traded.openTime[0]!, to: traded.openTime[count - 1]! + 60_000 };
        out.push(
          ...(await repeat(OPTIMIZE_WARMUPS.get(count)!, runs, async (run) => {
            collect();
            const [t0, c0] = [performance.now(), cpuMs()];
            const trial = await runTrial(plugin, { traded, informative: new Map() }, request, brokerConfig());
            const [trialMs, trialCpuMs] = [performance.now() - t0, cpuMs() - c0];
            collect();
            const c1 = cpuMs();
            const loop = macdLoop(traded);
            const loopCpuMs = cpuMs() - c1;
            log(
              `  ${count.toLocaleString('en-US')} candles, ${label(run)}: trial ${trialMs.toFixed(0)} ms (CPU ${trialCpuMs.toFixed(0)} ms, ${trial.metrics.trades} trades), hand-written loop ${loop.ms.toFixed(0)} ms (CPU ${loopCpuMs.toFixed(0)} ms, ${loop.trades} trades)`,
            );
            return { candles: count, trialMs, loopMs: loop.ms, trialCpuMs, loopCpuMs, trades: trial.metrics.trades, loopTrades: loop.trades };
          })),
        );
      }
      return out;
    }
  }
}

const [name, runsText] = process.argv.slice(2);
if (!(CHILD_CASES as readonly string[]).includes(name ?? '')) {
  throw new Error(`bench/case.ts: unknown case "${name}" (cases: ${CHILD_CASES.join(', ')})`);
}
const result = await runCase(name as ChildCase, Number(runsText ?? 3));
process.stdout.write(JSON.stringify(result));
