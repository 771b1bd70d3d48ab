/**
 * Every fenced `sh` command of README.md, run exactly as written (through bash, from the checkout's root, in README
 * order: `diff --run latest` needs the live run before it), checking its exit code and one line of its output.
 * Only the commands in SKIPPED are not run, each for the reason given there. The README's strategy example is checked
 * too: it passes `npm run check` and its parameters change what it trades.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);

const README = readFileSync('README.md', 'utf8');

/** Each non-empty line of each ```sh block, as written. */
const COMMANDS = [...README.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n').filter((line) => line.trim() !== ''));

/** The command part of a README line (before its `#` comment), the key of SKIPPED and EXPECTED. */
const commandOf = (line: string): string => line.replace(/\s+#.*$/, '').trim();

const SKIPPED: Readonly<Record<string, string>> = {
  'npm install': 'needs the internet (the npm registry) and rewrites node_modules',
  'npm test': 'the whole test suite, this file included',
  'npm run live -- strategies/macd.ts': "needs the internet (Binance's WebSocket and REST API)",
  'npm run download -- binance BTC/USDT 15m --since 2024-01-01': "needs the internet (Binance's REST API)",
  'bash scripts/install-notebook-tools.sh': 'needs the internet (apt, the npm registry) and root',
  'npm run notebooks': 'long (minutes); test/notebooks/ executes the notebooks',
};

/** Exit code and one line (a regular expression on standard output) per command run. */
const EXPECTED: Readonly<Record<string, { readonly code: number; readonly line: RegExp }>> = {
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
  'npm run diff -- strategies/macd.ts --run latest --runs runs/macd-fast': {
    code: 0,
    line: /^signals: \d+ in the run, \d+ in the replay; \d+ matched, 0 mismatched \(0 unexplained\)$/m,
  },
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

/** Runs a shell line as a user would type it; never throws on a non-zero exit. */
async function sh(line: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec('bash', ['-c', line], { maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('README.md', () => {
  it('lists each of its commands either as run or as skipped with a reason', () => {
    const listed = COMMANDS.map(commandOf).sort();
    expect(listed).toEqual([...Object.keys(SKIPPED), ...Object.keys(EXPECTED)].sort());
  });

  it.each(COMMANDS.filter((line) => SKIPPED[commandOf(line)] === undefined))('%s', async (line) => {
    const expected = EXPECTED[commandOf(line)]!;
    const { code, stdout, stderr } = await sh(line);
    expect({ code, stderr: code === expected.code ? '' : stderr }).toEqual({ code: expected.code, stderr: '' });
    expect(stdout).toMatch(expected.line);
  }, 240_000);

  it("has a strategy example that uses its parameters and whose warm-up passes npm run check", async () => {
    const example = /```ts\n([\s\S]*?)```/.exec(README.slice(README.indexOf('## Writing a strategy')))![1]!;
    // In .tmp/ (ignored by git) its `import … from '../framework'` resolves as it does from strategies/.
    mkdirSync('.tmp', { recursive: true });
    writeFileSync('.tmp/readme-strategy.ts', example);
    const check = await sh('npm run check -- .tmp/readme-strategy.ts');
    expect(check.stdout).toMatch(/^Result: passed/m);
    expect(check.code).toBe(0);

    const trades = (stdout: string): number => Number(/^│ Trades\s+│\s+(\d+) │$/m.exec(stdout)![1]);
    const [example12, example5, shipped] = await Promise.all([
      sh('npm run backtest -- .tmp/readme-strategy.ts --runs .tmp/readme-runs --quiet'),
      sh('npm run backtest -- .tmp/readme-strategy.ts --runs .tmp/readme-runs --quiet --param fast=5'),
      sh('npm run backtest -- strategies/macd.ts --runs .tmp/readme-runs --quiet'),
    ]);
    // MACD.calculate with exponential averages equals strategies/macd.ts's three EMAs (`ema`, README), so the example
    // with its default parameters trades as the shipped strategy; fast=5 trades differently.
    expect(trades(example12.stdout)).toBe(trades(shipped.stdout));
    expect(trades(example5.stdout)).not.toBe(trades(example12.stdout));
  }, 300_000);
});
