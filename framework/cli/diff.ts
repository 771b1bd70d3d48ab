/**
 * `npm run diff -- [strategy file] --run runs/<run-id> [more run folders…]`: replays the candles each run stored, from
 * the same origin, through the backtest path, and compares the signals one by one (each run's report printed in turn,
 * its strategy file the one given or else the one its `run.json` names). Exits 1 when any run has an unexplained
 * mismatch.
 *
 * @module
 */
import type { ActionDifference, ActionsReport } from '../parity/actions';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { z } from '../core/zod';
import { FrameworkError } from '../core/errors';
import { isoUtc } from '../core/time';
import type { Mismatch, MismatchCause, NotActedSignal } from '../parity/diff';
import type { Signal } from '../strategy/signal';
import { parseCommandLine, validateOptions } from './args';
import { commonArgs, runCommand, withCommonOptions } from './common';

const optionsSchema = z.object({ ...commonArgs, run: z.array(z.string()).min(1), runs: z.string() });

/**
 * The newest live run of `file` under `runsRoot`: run folders are named by their UTC start time
 * (`20210601-000000-macd-1a2b`), so the last in name order among those whose `run.json` says `mode: "live"` and names
 * the same strategy file.
 *
 * @throws FrameworkError when there is none.
 */
function latestLiveRun(runsRoot: string, file: string): string {
  const names = existsSync(runsRoot) ? readdirSync(runsRoot).sort().reverse() : [];
  for (const name of names) {
    const header = path.join(runsRoot, name, 'run.json');
    if (!existsSync(header)) continue;
    const run = JSON.parse(readFileSync(header, 'utf8')) as { mode?: unknown; file?: unknown };
    if (run.mode === 'live' && typeof run.file === 'string' && path.resolve(run.file) === path.resolve(file)) {
      return path.join(runsRoot, name);
    }
  }
  throw new FrameworkError(`--run latest: no live run of ${file} in ${runsRoot}/; run npm run live first, or name the run folder`);
}

function describeSignal(signal: Signal | null): string {
  return signal === null ? 'no signal' : `${signal.action}${signal.tag === undefined ? '' : ` (${signal.tag})`}`;
}

function describeCause(cause: MismatchCause): string {
  switch (cause.kind) {
    case 'revision': {
      const { before, after, openTime } = cause.candle;
      const changed = (['open', 'high', 'low', 'close', 'volume'] as const)
        .filter((k) => before[k] !== after[k])
        .map((k) => `${k} ${before[k]} → ${after[k]}`)
        .join(', ');
      return `candle ${isoUtc(openTime)} was revised after the run acted on it: ${changed} (the replay with the versions the run saw gives its signal)`;
    }
    case 'missing':
      return `candle ${isoUtc(cause.openTime)} was missing or late in the live run (the replay without it gives the run's signal)`;
    case 'origin':
      return `different origin: the live run's history started at ${isoUtc(cause.live)}, the replay's at ${isoUtc(cause.replay)}`;
    case 'lookahead':
      return `lookahead: column "${cause.column}" changes once later candles exist (the replay cut at this candle gives the run's signal)`;
    case 'unexplained':
      return 'UNEXPLAINED';
  }
}

function describeMismatch(m: Mismatch): string {
  const hint = m.hint === undefined ? '' : `\n    likely cause: ${m.hint}`;
  return `  ${isoUtc(m.openTime)}  live: ${describeSignal(m.live)}  replay: ${describeSignal(m.replay)}\n    cause: ${describeCause(m.cause)}${hint}`;
}

const program = withCommonOptions(
  new Command('diff')
    .description("Compare a run's signals with a replay of the candles it stored, and explain every difference")
    .argument('[strategy]', "the strategy plugin the runs used, e.g. strategies/macd.ts (default: the file each run's run.json names)")
    .requiredOption(
      '--run <dir...>',
      'the run folders, e.g. runs/20210601-000000-macd-1a2b (several: each diffed in turn, e.g. runs/macd-fast/* runs/trend/* for the workers of a node), or "latest": the newest live run of the strategy',
    )
    .option('--runs <dir>', 'where --run latest looks for run folders', 'runs'),
);

program.action(async (file: string | undefined, raw: Record<string, unknown>) => {
  await runCommand(raw['verbose'] === true, async () => {
    const options = validateOptions(optionsSchema, raw);
    let unexplained = 0;
    for (const [i, run] of options.run.entries()) {
      if (i > 0) process.stdout.write('\n');
      if (await diffOne(file, run, options.runs)) unexplained += 1;
    }
    if (options.run.length > 1) process.stdout.write(`\n${options.run.length} runs compared, ${unexplained} with unexplained differences\n`);
    if (unexplained > 0) process.exitCode = 1;
  });
});

/**
 * Diffs one run (`run`: a folder or `latest`, looked up under `runsRoot`) with `file`, or the strategy file its
 * `run.json` names, and prints its report. Returns whether it has unexplained differences.
 *
 * @throws FrameworkError for `latest` without a strategy file, a folder that is not a run, or the errors of diffRun.
 */
async function diffOne(file: string | undefined, run: string, runsRoot: string): Promise<boolean> {
  if (run === 'latest' && file === undefined) throw new FrameworkError('--run latest: name the strategy file, e.g. npm run diff -- strategies/macd.ts --run latest');
  const runDir = run === 'latest' ? latestLiveRun(runsRoot, file!) : run;
  // The replay (the strategy loader, the store, Parquet) is loaded only for valid options: a bad value fails without it.
  const [{ diffRun }, { readRunHeader }] = await Promise.all([import('../parity/diff'), import('../report/journal')]);
  const report = await diffRun(file ?? readRunHeader(runDir).file, runDir);
  const span = report.span === null ? 'no candles' : `${isoUtc(report.span.first)} → ${isoUtc(report.span.last)}`;
  const lines = [
    `run ${report.run} (${report.mode}), strategy ${report.strategy.name} [parameters ${report.strategy.parametersHash}]`,
    `candles compared: ${span}`,
    `signals: ${report.liveSignals} in the run, ${report.replaySignals} in the replay; ${report.matched} matched, ` +
      `${report.mismatches.length} mismatched (${report.mismatches.filter((m) => m.cause.kind === 'unexplained').length} unexplained)`,
    ...describeActions(report.actions),
    ...describeNotActed(report.notActed),
    `indicator values of matched signals not bit-for-bit equal: ${report.indicatorDrift}`,
    `candles revised after the run acted on them: ${report.revisions.length}`,
    ...report.mismatches.map(describeMismatch),
    `comparison written to ${path.join(runDir, 'diff.json')}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return report.unexplained > 0;
}

await parseCommandLine(program);

/** The actions comparison in a few lines: counts, then each difference with what it follows from. */
function describeActions(actions: ActionsReport | null): string[] {
  if (actions === null) return ['actions: not compared (no trading.jsonl: a backtest, or a run made before it was journaled)'];
  const { events, fills, trades, states, differences } = actions;
  return [
    `actions: ${events.live}/${events.replay} order events, ${fills.live}/${fills.replay} fills, ${trades.live}/${trades.replay} trades ` +
      `(run/replay), positions and equity after ${states} candles; ${differences.length} differing (${actions.unexplained} unexplained)`,
    ...differences.slice(0, 20).map(
      (d) =>
        `  ${d.kind} ${d.kind === 'state' ? `after ${isoUtc(d.time)}` : `#${d.index + 1} (${isoUtc(d.time)})`}: ${d.field} ` +
        `run ${JSON.stringify(pick(d.live, d.field))} vs replay ${JSON.stringify(pick(d.replay, d.field))}; ` +
        describeActionCause(d),
    ),
  ];
}

function describeActionCause(d: ActionDifference): string {
  if (d.followsSignalMismatch !== null) return `follows the signal mismatch at ${isoUtc(d.followsSignalMismatch)}`;
  switch (d.cause?.kind) {
    case 'revision':
      return `candle ${isoUtc(d.cause.openTime)} was revised after the run acted on it (the replay with the versions the run saw gives the run's action)`;
    case 'missing':
      return `candle ${isoUtc(d.cause.openTime)} was missing or late in the live run (the replay without it gives the run's action)`;
    case undefined:
      return 'UNEXPLAINED: the same signals were acted on differently';
  }
}

/** The replay's signals on candles of the span the run did not act on, each with the reason (not compared). */
function describeNotActed(notActed: readonly NotActedSignal[]): string[] {
  if (notActed.length === 0) return [];
  const unproven = notActed.filter((n) => n.reason === null).length;
  return [
    `replay signals on candles the run did not act on: ${notActed.length} (not compared; ${unproven} without a proven reason)`,
    ...notActed
      .slice(0, 20)
      .map((n) => `  ${isoUtc(n.openTime)}  replay: ${describeSignal(n.replay)}  not acted live: ${n.reason ?? 'UNEXPLAINED (no proven reason)'}`),
    ...(notActed.length > 20 ? [`  … ${notActed.length - 20} more in diff.json`] : []),
  ];
}

/** The value at a dotted `path` of `value` (the whole value for `(missing)`). */
function pick(value: unknown, path: string): unknown {
  if (path.startsWith('(')) return value === null ? null : '…';
  return path.split('.').reduce<unknown>((v, key) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), value);
}
