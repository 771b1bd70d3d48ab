/**
 * One case of the benchmark, run in a fresh process by `bench/run.ts` (so that no case inherits another's heap or
 * compiled code): `node --import tsx bench/case.ts <case> <runs>`. Progress goes to standard error; the case's
 * result is written to standard output as one JSON document.
 *
 * @module
 */
import { batchLength } from '../framework/core/candle';
import { readDataset } from '../framework/store/partitions';
import { checkedBacktest, inProcessBacktest, MACD_1M, stagedBacktest } from './backtest';
import { BENCH_1M, BENCH_ROOT } from './data';
import { latencyRun } from './live-latency';
import { throughputRun, type ThroughputRun } from './live-throughput';
import { engineRun, rawLoop, type EngineRun } from './overhead';
import { median, repeat } from './stats';

/** The cases this entry point runs. */
const CHILD_CASES = ['overhead', 'backtest-stages', 'backtest-whole', 'lookahead', 'throughput', 'latency'] as const;
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

const log = (line: string): void => void process.stderr.write(`${line}\n`);
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
  }
}

const [name, runsText] = process.argv.slice(2);
if (!(CHILD_CASES as readonly string[]).includes(name ?? '')) {
  throw new Error(`bench/case.ts: unknown case "${name}" (cases: ${CHILD_CASES.join(', ')})`);
}
const result = await runCase(name as ChildCase, Number(runsText ?? 3));
process.stdout.write(JSON.stringify(result));
