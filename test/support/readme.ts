/**
 * The fenced `sh` commands of README.md and how test/cli/readme/ runs them: exactly as written, through bash, from the
 * checkout's root, checking each one's exit code and one line of its output. The commands run in four groups, in three
 * test files that run side by side (the live and node groups share one: both write the simulator's store
 * `live-data/sim/`, and one process writes a dataset at a time, as a user running the README's commands one after the
 * other does); within a group they run in README order, because a later command reads what an earlier one wrote
 * (`diff --run latest` the live run, `--params-file latest` the grid search, `diff --run runs/macd-fast/* …` the node's
 * runs). `commands.test.ts` checks that every command is either skipped for the reason given in SKIPPED or in exactly
 * one group.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);

/** README.md's text. */
export const README = readFileSync('README.md', 'utf8');

/** Each non-empty line of each ```sh block, as written. */
export const COMMANDS = [...README.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n').filter((line) => line.trim() !== ''));

/** The command part of a README line (before its `#` comment), the key of SKIPPED, EXPECTED and GROUPS. */
export const commandOf = (line: string): string => line.replace(/\s+#.*$/, '').trim();

/** The commands not run, each with the reason. */
export const SKIPPED: Readonly<Record<string, string>> = {
  'npm install': 'needs the internet (the npm registry) and rewrites node_modules',
  'npm test': 'the whole test suite, this file included',
  'npm run live -- strategies/macd.ts': "needs the internet (Binance's WebSocket and REST API)",
  'npm run download -- binance BTC/USDT 15m --since 2024-01-01': "needs the internet (Binance's REST API)",
  'bash scripts/install-notebook-tools.sh': 'needs the internet (apt, the npm registry) and root',
  'npm run notebooks': 'long (minutes); test/notebooks/ executes the notebooks',
};

/** Exit code and one line (a regular expression on standard output) per command run. */
export const EXPECTED: Readonly<Record<string, { readonly code: number; readonly line: RegExp }>> = {
  'npm run backtest -- strategies/macd.ts': { code: 0, line: /^21912 candles in [\d.]+ s; run written to runs\/\S+-macd-\w+\/$/m },
  'npm run backtest -- strategies/rsi-mean-reversion.ts': { code: 0, line: /^5482 candles in [\d.]+ s; run written to runs\/\S+\/$/m },
  'npm run backtest -- strategies/ema-cross.ts': { code: 0, line: /^5482 candles in [\d.]+ s; run written to runs\/\S+-ema-cross-\w+\/$/m },
  'npm run backtest -- strategies/dca.ts': { code: 0, line: /^5482 candles in [\d.]+ s; run written to runs\/\S+-dca-\w+\/$/m },
  'npm run optimize -- strategies/macd.ts --trials 30 --windows 2': {
    code: 0,
    line: /^62 trials \(\d+ run now\) in [\d.]+ s; written to runs\/optimize-\w+\/$/m,
  },
  'npm run optimize -- strategies/macd.ts --sampler grid --space fast=8..16:4 --space slow=26 --space signal=9 --windows 1 --min-trades 30': {
    code: 0,
    line: /^4 trials \(\d+ run now\) in [\d.]+ s; written to runs\/optimize-\w+\/$/m,
  },
  // The grid search's chosen trial (written last): fast ∈ {8, 12, 16} on the first half of the 15m candles.
  'npm run backtest -- strategies/macd.ts --params-file latest': { code: 0, line: /^10956 candles in [\d.]+ s; run written to runs\/\S+-macd-\w+\/$/m },
  'npm run live -- strategies/macd.ts --exchange sim --speed 6000 --max-candles 20': { code: 0, line: /^│ Period\s+│ .* 20 candles │$/m },
  'npm run sim -- --dataset binance/BTC_USDT/15m --speed 600 --duration 5': {
    code: 0,
    line: /^simulator listening: REST http:\/\/127\.0\.0\.1:8765\/api\/v3/m,
  },
  'npm run diff -- strategies/macd.ts --run latest': { code: 0, line: /^signals: \d+ in the run, \d+ in the replay; \d+ matched, 0 mismatched \(0 unexplained\)$/m },
  'npm run check -- strategies/macd.ts': { code: 0, line: /^Result: passed/m },
  // Three workers of 20 candles each on the in-process simulator; the node prints the portfolio at the end.
  'npm run node -- nodes/example.yaml --exchange sim --speed 6000 --max-candles 20': { code: 0, line: /^runs written to runs\/<strategy id>\/$/m },
  // Every run of the three workers (more when runs/ holds an earlier node's): each compared, none unexplained.
  'npm run diff -- --run runs/macd-fast/* runs/macd-slow/* runs/trend/*': { code: 0, line: /^\d+ runs compared, 0 with unexplained differences$/m },
  'npm run data -- list': { code: 0, line: /binance BTC\/USDT 15m\s+│\s+21912 │/ },
  'npm run data -- verify binance/BTC_USDT/5m': { code: 0, line: /^binance BTC\/USDT 5m: OK$/m },
  'npm run data -- resample binance/BTC_USDT/5m 15m --out .tmp/datasets --force': {
    code: 0,
    line: /^binance BTC\/USDT 15m: 21912 candles written \(2020-12-01 00:00 to 2021-07-17 20:45 UTC\)/m,
  },
  'npm run data -- import ../shared/data/BTC_USDT-1h.json --exchange binance --datasets .tmp/datasets --force': {
    code: 0,
    line: /^binance BTC\/USDT 1h: 5482 candles imported \(2020-12-01 00:00 to 2021-07-17 20:00 UTC\)/m,
  },
};

/**
 * The commands of each group (keys of EXPECTED), in README order within a group. Commands of groups in different test
 * files share nothing but `runs/` (each group's `latest` or glob is of a strategy file or a folder no other group
 * writes: the live run of strategies/macd.ts, runs/optimize-*, the node's runs/macd-fast/, macd-slow/ and trend/) and
 * `.tmp/datasets` (backtests only); the simulator's port 8765 is used by the `sim` command alone. The live and node
 * groups both write `live-data/sim/` and run in one file (test/cli/readme/live.test.ts), one after the other.
 */
export const GROUPS = {
  backtests: [
    'npm run backtest -- strategies/macd.ts',
    'npm run backtest -- strategies/rsi-mean-reversion.ts',
    'npm run backtest -- strategies/ema-cross.ts',
    'npm run backtest -- strategies/dca.ts',
    'npm run data -- list',
    'npm run data -- verify binance/BTC_USDT/5m',
    'npm run data -- resample binance/BTC_USDT/5m 15m --out .tmp/datasets --force',
    'npm run data -- import ../shared/data/BTC_USDT-1h.json --exchange binance --datasets .tmp/datasets --force',
  ],
  live: [
    'npm run live -- strategies/macd.ts --exchange sim --speed 6000 --max-candles 20',
    'npm run sim -- --dataset binance/BTC_USDT/15m --speed 600 --duration 5',
    'npm run diff -- strategies/macd.ts --run latest',
    'npm run check -- strategies/macd.ts',
  ],
  optimize: [
    'npm run optimize -- strategies/macd.ts --trials 30 --windows 2',
    'npm run optimize -- strategies/macd.ts --sampler grid --space fast=8..16:4 --space slow=26 --space signal=9 --windows 1 --min-trades 30',
    'npm run backtest -- strategies/macd.ts --params-file latest',
  ],
  node: [
    'npm run node -- nodes/example.yaml --exchange sim --speed 6000 --max-candles 20',
    'npm run diff -- --run runs/macd-fast/* runs/macd-slow/* runs/trend/*',
  ],
} as const satisfies Readonly<Record<string, readonly string[]>>;

/** What a command printed and how it ended. */
export interface ShellOutcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a shell line as a user would type it; never throws on a non-zero exit. */
export async function sh(line: string): Promise<ShellOutcome> {
  try {
    const { stdout, stderr } = await exec('bash', ['-c', line], { maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as ShellOutcome;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/**
 * Declares one test per README line of `group`, run in README order, each checking the exit code and line of
 * EXPECTED; returns the outcomes by command (filled as the tests run) for later tests of the same file to read.
 */
export function runReadmeGroup(group: keyof typeof GROUPS): ReadonlyMap<string, ShellOutcome> {
  const members: readonly string[] = GROUPS[group];
  const outcomes = new Map<string, ShellOutcome>();
  describe(`README.md commands: ${group}`, () => {
    it.each(COMMANDS.filter((line) => members.includes(commandOf(line))))('%s', async (line) => {
      const expected = EXPECTED[commandOf(line)]!;
      const outcome = await sh(line);
      outcomes.set(commandOf(line), outcome);
      expect({ code: outcome.code, stderr: outcome.code === expected.code ? '' : outcome.stderr }).toEqual({ code: expected.code, stderr: '' });
      expect(outcome.stdout).toMatch(expected.line);
    }, 240_000);
  });
  return outcomes;
}
