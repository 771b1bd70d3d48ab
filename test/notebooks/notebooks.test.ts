import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceMacd } from '../support/macd';
import { replayCandles } from '../../framework/feeds/replay';
import { readEquityFile } from '../../framework/report/equity-file';
import { readParquetTable } from '../../framework/store/arrow-columns';
import { readSignalsFile } from '../../framework/report/signals-file';
import { readTradesFile } from '../../framework/report/trades-file';

const exec = promisify(execFile);
const INSTALL_HINT = 'the notebook tools are missing: run `bash scripts/install-notebook-tools.sh` (see its header)';

const scratch = mkdtempSync(path.join(tmpdir(), 'notebooks-'));
const runsRoot = path.join(scratch, 'runs');
const executedDir = path.join(scratch, 'executed');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Output {
  readonly output_type: string;
  readonly name?: string;
  readonly text?: string | string[];
  readonly data?: Record<string, string | string[]>;
}
interface Cell {
  readonly cell_type: string;
  readonly execution_count?: number | null;
  readonly outputs?: Output[];
}
interface Notebook {
  readonly cells: Cell[];
}
interface HtmlTable {
  readonly caption: string;
  readonly header: string[];
  readonly rows: string[][];
}

const joined = (text: string | string[] | undefined): string => (Array.isArray(text) ? text.join('') : (text ?? ''));
const outputsOf = (nb: Notebook): Output[] => nb.cells.flatMap((c) => c.outputs ?? []);
const stdout = (nb: Notebook): string =>
  outputsOf(nb)
    .filter((o) => o.output_type === 'stream' && o.name === 'stdout')
    .map((o) => joined(o.text))
    .join('');
const svgs = (nb: Notebook): string[] =>
  outputsOf(nb).flatMap((o) => (o.data?.['image/svg+xml'] === undefined ? [] : [joined(o.data['image/svg+xml'])]));
const unescape = (html: string): string =>
  html.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');

/** The HTML tables of the notebook's outputs, parsed with regular expressions (the tables are flat, one per output). */
function tables(nb: Notebook): HtmlTable[] {
  const cells = (row: string, tag: string) =>
    [...row.matchAll(new RegExp(`<${tag}>(.*?)</${tag}>`, 'g'))].map((m) => unescape(m[1]!));
  return outputsOf(nb).flatMap((o) => {
    const html = o.data?.['text/html'];
    if (html === undefined) return [];
    const text = joined(html);
    const caption = unescape(/<caption>(.*?)<\/caption>/.exec(text)?.[1] ?? '');
    const header = cells(/<thead>(.*?)<\/thead>/.exec(text)?.[1] ?? '', 'th');
    const body = /<tbody>(.*?)<\/tbody>/.exec(text)?.[1] ?? '';
    const rows = [...body.matchAll(/<tr>(.*?)<\/tr>/g)].map((m) => cells(m[1]!, 'td'));
    return [{ caption, header, rows }];
  });
}

function column(table: HtmlTable, name: string): string[] {
  const j = table.header.indexOf(name);
  expect(j, `column ${name} in ${table.header.join(', ')}`).toBeGreaterThanOrEqual(0);
  return table.rows.map((row) => row[j]!);
}

function readNotebook(name: string): Notebook {
  return JSON.parse(readFileSync(path.join(executedDir, name), 'utf8')) as Notebook;
}

/** Why the notebooks cannot run here, or null: nbconvert and the Deno kernel must be installed. */
function missingTools(): string | null {
  if (spawnSync('jupyter-nbconvert', ['--version']).status !== 0) return 'jupyter-nbconvert is not installed';
  // The checkout's own kernelspec, which scripts/run-notebooks.sh puts first on JUPYTER_PATH.
  const env = { ...process.env, JUPYTER_PATH: path.resolve('.tools/jupyter') };
  const specs = spawnSync('jupyter', ['kernelspec', 'list', '--json'], { encoding: 'utf8', env });
  if (specs.status !== 0) return 'jupyter kernelspec (jupyter-client) is not installed';
  const kernels = (JSON.parse(specs.stdout) as { kernelspecs: Record<string, unknown> }).kernelspecs;
  return kernels['candlecraft-deno'] === undefined ? 'the Jupyter kernel candlecraft-deno is not registered' : null;
}

let run: { code: number; stdout: string; stderr: string };

beforeAll(async () => {
  const missing = missingTools();
  if (missing !== null) throw new Error(`${missing}; ${INSTALL_HINT}`);
  mkdirSync(runsRoot);
  run = await exec('bash', ['scripts/run-notebooks.sh', '--output-dir', executedDir], {
    env: { ...process.env, NOTEBOOK_RUNS: runsRoot },
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}, 300_000);

describe('notebooks executed headless on the Deno kernel (scripts/run-notebooks.sh)', () => {
  it('execute every notebook without a cell error', () => {
    expect(run.stderr).not.toContain('install-notebook-tools.sh');
    expect(run.stdout, run.stdout).toContain('3 notebook(s) executed, 0 failed');
    expect(run.code).toBe(0);
    for (const name of ['backtest-analysis.ipynb', 'live-vs-replay.ipynb', 'optimize-analysis.ipynb']) {
      const nb = readNotebook(name);
      const code = nb.cells.filter((c) => c.cell_type === 'code');
      expect(code.every((c) => typeof c.execution_count === 'number')).toBe(true);
      expect(outputsOf(nb).filter((o) => o.output_type === 'error')).toEqual([]);
    }
  });

  it('backtest-analysis: tables of the run, the summary check, and SVG charts of its trades and signals', () => {
    const nb = readNotebook('backtest-analysis.ipynb');
    // The notebook made one fresh backtest in NOTEBOOK_RUNS; read its files here.
    const [runId, ...others] = readdirSync(runsRoot).filter((d) => !d.startsWith('optimize-'));
    expect(others).toEqual([]);
    const dir = path.join(runsRoot, runId!);
    const trades = readTradesFile(path.join(dir, 'trades.parquet'));
    const signals = readSignalsFile(path.join(dir, 'signals.parquet'));
    const equity = readEquityFile(path.join(dir, 'equity.parquet'));
    expect(stdout(nb)).toContain(`ran a new backtest: ${dir}`);

    const all = tables(nb);
    const caption = (prefix: string) => all.find((t) => t.caption.startsWith(prefix))?.caption;
    expect(caption('trades')).toBe(`trades · first 8 of ${trades.length} rows`);
    expect(caption('signals')).toBe(`signals · first 8 of ${signals.length} rows`);
    const check = all.find((t) => t.caption.endsWith('summary.json against the DataFrames'))!;
    expect(column(check, 'equal').every((v) => v === 'true')).toBe(true);
    const numbers = column(check, 'recomputed').map(Number);
    const recomputed = Object.fromEntries(column(check, 'metric').map((metric, i) => [metric, numbers[i]]));
    expect(recomputed['trades']).toBe(trades.length);
    // Total return and maximum drawdown, computed here from equity.parquet.
    const values = [...equity.equity];
    let peak = values[0]!;
    let worst = 0;
    for (const v of values) {
      peak = Math.max(peak, v);
      worst = Math.max(worst, 1 - v / peak);
    }
    expect(recomputed['total return']).toBeCloseTo(values.at(-1)! / values[0]! - 1, 6);
    expect(recomputed['max drawdown']).toBeCloseTo(worst, 6);

    // The price chart: one ▲ per entry and one ▼ per exit inside its window, one mark per signal on the histogram.
    const [price, equityChart] = svgs(nb);
    const window = /(\d{4}-\d\d-\d\d \d\d:\d\d) → (\d{4}-\d\d-\d\d \d\d:\d\d) UTC/.exec(price!)!;
    const [from, to] = [Date.parse(`${window[1]}Z`), Date.parse(`${window[2]}Z`)];
    const inWindow = (t: number) => t >= from && t < to;
    const count = (svg: string, name: string) => svg.split(`class="marker ${name}"`).length - 1;
    expect(count(price!, 'entry')).toBe(trades.filter((t) => inWindow(t.entryTime)).length);
    expect(count(price!, 'exit')).toBe(trades.filter((t) => inWindow(t.exitTime)).length);
    expect(count(price!, 'entry')).toBeGreaterThan(0);
    expect(count(price!, 'signal')).toBe(signals.filter((s) => inWindow(s.openTime)).length);
    const totalReturnPct = ((values.at(-1)! / values[0]! - 1) * 100).toFixed(2);
    expect(equityChart).toContain(`equity, binance BTC/USDT 15m: ${totalReturnPct}%`);
  });

  it('optimize-analysis: the trials of its grid search, and a heatmap of their in-sample scores', () => {
    const nb = readNotebook('optimize-analysis.ipynb');
    const [search, ...others] = readdirSync(runsRoot).filter((d) => d.startsWith('optimize-'));
    expect(others).toEqual([]);
    const trials = readParquetTable(readFileSync(path.join(runsRoot, search!, 'trials.parquet')), 'trials.parquet');
    const col = (name: string) => Array.from(trials.getChild(name)!.toArray() as ArrayLike<unknown>);
    const [sample, fast, slow, score] = [col('sample'), col('param_fast'), col('param_slow'), col('score')];
    // fast 6..20 by 2 (8 values) × slow 20..40 by 4 (6 values): 48 in-sample trials and one out of sample.
    expect(sample.filter((s) => s === 'in')).toHaveLength(48);
    expect(tables(nb).find((t) => t.caption.startsWith('48 in-sample trials'))).toBeDefined();
    const [svg, ...more] = svgs(nb);
    expect(more).toEqual([]);
    const rects = [...svg!.matchAll(/data-x="([^"]*)" data-y="([^"]*)" data-z="([^"]*)"/g)];
    expect(rects).toHaveLength(48);
    for (const [, x, y, z] of rects) {
      const i = sample.findIndex((s, k) => s === 'in' && fast[k] === Number(x) && slow[k] === Number(y));
      expect(Number(z)).toBe(score[i]);
    }
  });

  it('live-vs-replay: 50 live candles equal to the stored ones, and every signal matches the replay', () => {
    const nb = readNotebook('live-vs-replay.ipynb');
    const text = stdout(nb);
    expect(text).toContain('all 50 live candles equal the stored ones: true');
    const [, firstIso, lastIso] = /live: 50 closed candles (\S+ \S+) → (\S+ \S+) UTC/.exec(text)!;
    const first = Date.parse(`${firstIso}Z`);
    const last = Date.parse(`${lastIso}Z`);

    const comparison = tables(nb).find((t) => t.caption === 'signals: live vs replay')!;
    expect(comparison.rows.length).toBeGreaterThan(0);
    expect(column(comparison, 'match').every((v) => v === 'true')).toBe(true);
    expect(column(comparison, 'live')).toEqual(column(comparison, 'replay'));
    expect(text).toMatch(/\d+ signals compared; all match: true; candles equal: true/);

    // The expected signals, computed here: MACD 12/26/9 (exponential averages) over the stored closes from the
    // dataset's first candle, and strategies/macd.ts's rule, the histogram crossing zero, on the live candles.
    const market = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' };
    const candles = replayCandles('datasets', market, { to: last + 1 });
    const closes = Array.from(candles.close);
    const { histogram } = referenceMacd(closes);
    const expected: string[][] = [];
    for (let i = 1; i < closes.length; i++) {
      const t = candles.openTime[i]!;
      if (t < first) continue;
      const [previous, current] = [histogram[i - 1]!, histogram[i]!];
      if (previous <= 0 && current > 0) expected.push([new Date(t).toISOString(), 'enter_long']);
      if (previous >= 0 && current < 0) expected.push([new Date(t).toISOString(), 'exit_long']);
    }
    const [times, actions] = [column(comparison, 'openIso'), column(comparison, 'live')];
    expect(times.map((t, i) => [t, actions[i]])).toEqual(expected);
  });
});

describe('scripts/run-notebooks.sh', () => {
  it('exits 1 and shows the failing cell when a notebook raises', async () => {
    const dir = path.join(scratch, 'failing');
    mkdirSync(dir);
    const failing = path.join(dir, 'failing.ipynb');
    const cell = (id: string, source: string) => ({
      cell_type: 'code',
      id,
      metadata: {},
      execution_count: null,
      outputs: [],
      source,
    });
    const kernelspec = { name: 'candlecraft-deno', display_name: 'Deno (candlecraft)', language: 'typescript' };
    const cells = [cell('a', '1 + 1'), cell('b', "throw new Error('broken on purpose')")];
    const notebook = { cells, metadata: { kernelspec }, nbformat: 4, nbformat_minor: 5 };
    writeFileSync(failing, JSON.stringify(notebook));
    const args = ['scripts/run-notebooks.sh', '--output-dir', path.join(dir, 'out'), failing];
    const outcome = await exec('bash', args).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string }) => error,
    );
    expect(outcome.code).toBe(1);
    expect(outcome.stdout).toContain(`FAIL  ${failing}`);
    expect(outcome.stdout).toContain('broken on purpose');
    expect(outcome.stdout).toContain('1 notebook(s) executed, 1 failed');
  }, 120_000);
});
