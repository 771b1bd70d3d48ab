/**
 * The results page of an optimisation, `runs/optimize-<id>/report.html`: self-contained, offline, in the style of a
 * backtest's `report.html` (its stylesheet, escaping and number formats).
 *
 * @module
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatMinute, formatNumber, formatPercent } from '../report/format';
import { escapeHtml, jsonForScript } from '../report/html/format';
import { pageStart } from '../report/html/page';
import { describeRange } from '../strategy/parameters';
import type { OptimizeResult, WindowResult } from './optimize';
import type { TrialRow } from './trial-log';

/** File name of the results page inside `runs/optimize-<id>/`. */
export const RESULTS_PAGE_FILE = 'report.html';

const WIDTH = 1000;
const HEIGHT = 320;
const PAD = 40;

/** The page's own styles, after the report's stylesheet. */
const PAGE_CSS = `svg { width: 100%; height: auto; border: 1px solid var(--border); border-radius: 6px; }
svg text { font: 11px system-ui, sans-serif; fill: var(--muted); }
#trials th { cursor: pointer; }
#trials td, #trials th, #windows td, #windows th { text-align: right; }`;

/**
 * Renders the page: the search's settings; the walk-forward windows (spans, chosen parameters, in-sample vs
 * out-of-sample Sharpe, return, drawdown and trades, deflated Sharpe ratio); the out-of-sample equity of the chosen
 * parameters, window after window, chained (each window's curve scaled to start where the previous ended); a
 * parallel-coordinates view of every in-sample trial (one axis per searched parameter and one for the score, lines
 * coloured from the lowest score, blue, to the highest, red); and every trial in a table sortable by any column
 * (click its header). Charts are inline SVG; the sorting is a few lines of inline script.
 */
export function renderResultsPage(result: OptimizeResult): string {
  const { config } = result;
  const searched = Object.keys(config.space);
  const title = `optimize · ${config.strategy.name} · ${config.market} · ${result.id}`;
  const facts: [string, string][] = [
    ['Strategy', `${config.strategy.name} (${config.strategy.file})`],
    ['Market', `${config.market}, ${formatMinute(config.firstCandle)} → ${formatMinute(config.lastCandle)} UTC, ${config.candles} candles`],
    ['Search', `${config.sampler}, ${config.trials} trials per window, seed ${config.seed}, batches of ${config.batch}`],
    ['Space', searched.map((k) => `${k}: ${describeRange(config.space[k]!)}`).join('; ')],
    ['Objective', `${config.objective}${config.constraints.minTrades > 0 ? `, at least ${config.constraints.minTrades} trades` : ''}`],
    ['Walk-forward', `${config.windows} ${config.anchored ? 'anchored' : 'rolling'} windows`],
  ];
  return `${pageStart(title, PAGE_CSS)}<h1>${escapeHtml(`Optimisation of ${config.strategy.name}`)}</h1>
<p class="sub">${escapeHtml(config.market)} · ${escapeHtml(result.id)}</p>
<dl class="facts">${facts.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>
<section>
<h2>Walk-forward windows</h2>
<div class="table-wrap">${windowsTable(result.windows)}</div>
<p class="hint">IS: in sample, where the parameters were chosen; OOS: the next span, where they were only scored. DSR: the deflated Sharpe ratio of the chosen trial among the window's trials (D. H. Bailey and M. López de Prado, "The Deflated Sharpe Ratio", Journal of Portfolio Management 40(5), 2014): the probability that its Sharpe ratio is not the luck of the best of many trials; below 0.95 it is not significant at 5%.</p>
</section>
<section>
<h2>Out-of-sample equity of the chosen parameters</h2>
${equityChart(result.windows)}
</section>
<section>
<h2>Parameters against the objective (in-sample trials)</h2>
${parallelCoordinates(result.rows.filter((r) => r.sample === 'in'), searched)}
</section>
<section>
<h2>Trials (${result.rows.length})</h2>
<p class="hint">Click a column header to sort.</p>
<div class="table-wrap">${trialsTable(result.rows, searched)}</div>
</section>
<script type="application/json" id="optimize-data">${jsonForScript({ id: result.id, windows: result.windows.map((w) => ({ index: w.window.index, deflatedSharpe: w.deflatedSharpe })) })}</script>
<script>
document.querySelectorAll('#trials th').forEach((th, column) => {
  th.addEventListener('click', () => {
    const body = th.closest('table').tBodies[0];
    const up = th.dataset.order !== 'up';
    th.dataset.order = up ? 'up' : 'down';
    const key = (tr) => { const v = tr.children[column].dataset.value; const n = Number(v); return v === '' ? -Infinity : Number.isNaN(n) ? v : n; };
    const rows = [...body.rows].sort((a, b) => { const x = key(a), y = key(b); return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1); });
    body.append(...rows);
  });
});
</script>
</body>
</html>
`;
}

/** Renders the page and writes it to `<dir>/report.html`, replacing an earlier one. */
export function writeResultsPage(result: OptimizeResult): string {
  const path = join(result.dir, RESULTS_PAGE_FILE);
  writeFileSync(path, renderResultsPage(result));
  return path;
}

function windowsTable(windows: readonly WindowResult[]): string {
  const head = ['Window', 'In sample (UTC)', 'Out of sample (UTC)', 'Trials', 'Chosen', 'Sharpe IS', 'Sharpe OOS', 'Return IS', 'Return OOS', 'Max DD IS', 'Max DD OOS', 'Trades IS', 'Trades OOS', 'DSR'];
  const rows = windows.map((w) => {
    const is = w.chosen?.metrics;
    const oos = w.outOfSample?.metrics;
    const cells = [
      String(w.window.index),
      `${formatMinute(w.window.inSample.from)} → ${formatMinute(w.window.inSample.to)}`,
      `${formatMinute(w.window.outOfSample.from)} → ${formatMinute(w.window.outOfSample.to)}`,
      String(w.trials),
      w.chosen === null ? 'none feasible' : Object.entries(w.chosen.params).map(([k, v]) => `${k}=${String(v)}`).join(' '),
      formatNumber(is?.sharpe ?? null, 2),
      formatNumber(oos?.sharpe ?? null, 2),
      formatPercent(is?.totalReturn ?? null),
      formatPercent(oos?.totalReturn ?? null),
      formatPercent(is?.maxDrawdown ?? null),
      formatPercent(oos?.maxDrawdown ?? null),
      String(is?.trades ?? 'n/a'),
      String(oos?.trades ?? 'n/a'),
      formatNumber(w.deflatedSharpe, 3),
    ];
    return `<tr>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`;
  });
  return `<table id="windows"><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function trialsTable(rows: readonly TrialRow[], searched: readonly string[]): string {
  const columns: [string, (r: TrialRow) => number | string | null, (r: TrialRow) => string][] = [
    ['id', (r) => r.id, (r) => r.id],
    ['window', (r) => r.window, (r) => String(r.window)],
    ['sample', (r) => r.sample, (r) => r.sample],
    ...searched.map((k): [string, (r: TrialRow) => number | string | null, (r: TrialRow) => string] => [k, (r) => r.params[k] as number | string, (r) => String(r.params[k])]),
    ['score', (r) => r.score, (r) => formatNumber(r.score, 4)],
    ['sharpe', (r) => r.metrics.sharpe, (r) => formatNumber(r.metrics.sharpe, 2)],
    ['sortino', (r) => r.metrics.sortino, (r) => formatNumber(r.metrics.sortino, 2)],
    ['calmar', (r) => r.metrics.calmar, (r) => formatNumber(r.metrics.calmar, 2)],
    ['total return', (r) => r.metrics.totalReturn, (r) => formatPercent(r.metrics.totalReturn)],
    ['max drawdown', (r) => r.metrics.maxDrawdown, (r) => formatPercent(r.metrics.maxDrawdown)],
    ['profit factor', (r) => r.metrics.profitFactor, (r) => formatNumber(r.metrics.profitFactor, 2)],
    ['trades', (r) => r.metrics.trades, (r) => String(r.metrics.trades)],
  ];
  const body = rows
    .map((r) => `<tr>${columns.map(([, value, text]) => `<td data-value="${escapeHtml(String(value(r) ?? ''))}">${escapeHtml(text(r))}</td>`).join('')}</tr>`)
    .join('');
  return `<table id="trials"><thead><tr>${columns.map(([h]) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table>`;
}

/** The out-of-sample curves chained into one, as an SVG line. */
function equityChart(windows: readonly WindowResult[]): string {
  const points: [number, number][] = [];
  let scale = 1;
  for (const w of windows) {
    const curve = w.outOfSample?.equity;
    if (curve === undefined || curve.equity.length === 0) continue;
    if (points.length > 0) scale = points[points.length - 1]![1] / curve.equity[0]!;
    curve.time.forEach((t, i) => points.push([t, curve.equity[i]! * scale]));
  }
  if (points.length < 2) return '<p class="empty">No out-of-sample run.</p>';
  const [x, y] = axes(points.map((p) => p[0]), points.map((p) => p[1]));
  const line = points.map(([t, e]) => `${x(t).toFixed(1)},${y(e).toFixed(1)}`).join(' ');
  const lows = Math.min(...points.map((p) => p[1]));
  const highs = Math.max(...points.map((p) => p[1]));
  const bounds = windows
    .filter((w) => w.outOfSample !== null)
    .map((w) => `<line x1="${x(w.window.outOfSample.from).toFixed(1)}" x2="${x(w.window.outOfSample.from).toFixed(1)}" y1="${PAD / 2}" y2="${HEIGHT - PAD}" stroke="#d0d4dc" stroke-dasharray="4 3"/><text x="${(x(w.window.outOfSample.from) + 4).toFixed(1)}" y="${PAD / 2 + 10}">window ${w.window.index}</text>`)
    .join('');
  return `<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="out-of-sample equity">${bounds}<polyline fill="none" stroke="#2962ff" stroke-width="1.5" points="${line}"/>` +
    `<text x="4" y="${y(highs).toFixed(1)}">${escapeHtml(formatNumber(highs, 0))}</text><text x="4" y="${y(lows).toFixed(1)}">${escapeHtml(formatNumber(lows, 0))}</text>` +
    `<text x="${PAD}" y="${HEIGHT - 8}">${escapeHtml(formatMinute(points[0]![0]))}</text><text x="${WIDTH - PAD}" y="${HEIGHT - 8}" text-anchor="end">${escapeHtml(formatMinute(points[points.length - 1]![0]))}</text></svg>` +
    '<p class="hint">Equity in quote currency marked at each candle\'s close, each window starting from the previous one\'s end; dashed lines: window starts.</p>';
}

/** One vertical axis per searched parameter plus the score; one line per trial. */
function parallelCoordinates(rows: readonly TrialRow[], searched: readonly string[]): string {
  const scored = rows.filter((r) => r.score !== null);
  if (scored.length === 0) return '<p class="empty">No feasible trial.</p>';
  const axesNames = [...searched, 'score'];
  const valueOf = (r: TrialRow, axis: string): number => (axis === 'score' ? r.score! : typeof r.params[axis] === 'number' ? (r.params[axis] as number) : Number.NaN);
  const categorical = new Map(searched.filter((a) => rows.some((r) => typeof r.params[a] !== 'number')).map((a) => [a, [...new Set(rows.map((r) => String(r.params[a])))]]));
  const position = (r: TrialRow, axis: string): number => {
    const categories = categorical.get(axis);
    return categories === undefined ? valueOf(r, axis) : categories.indexOf(String(r.params[axis]));
  };
  const ranges = axesNames.map((a) => {
    const values = scored.map((r) => position(r, a));
    return [Math.min(...values), Math.max(...values)] as const;
  });
  const xAt = (k: number) => PAD + (k * (WIDTH - 2 * PAD)) / Math.max(1, axesNames.length - 1);
  const yAt = (k: number, v: number) => {
    const [lo, hi] = ranges[k]!;
    return HEIGHT - PAD - (hi > lo ? (v - lo) / (hi - lo) : 0.5) * (HEIGHT - 2 * PAD);
  };
  const [sLo, sHi] = ranges[axesNames.length - 1]!;
  const sorted = [...scored].sort((a, b) => a.score! - b.score!);
  const lines = sorted
    .map((r) => {
      const t = sHi > sLo ? (r.score! - sLo) / (sHi - sLo) : 1;
      const colour = `rgb(${Math.round(40 + 200 * t)},${Math.round(90 - 40 * t)},${Math.round(230 - 190 * t)})`;
      const d = axesNames.map((a, k) => `${xAt(k).toFixed(1)},${yAt(k, position(r, a)).toFixed(1)}`).join(' ');
      return `<polyline fill="none" stroke="${colour}" stroke-opacity="0.45" points="${d}"><title>${escapeHtml(`${r.id}: ${searched.map((a) => `${a}=${String(r.params[a])}`).join(' ')} score ${formatNumber(r.score, 4)}`)}</title></polyline>`;
    })
    .join('');
  const axisMarks = axesNames
    .map((a, k) => {
      const [lo, hi] = ranges[k]!;
      const categories = categorical.get(a);
      const label = (v: number) => (categories === undefined ? formatNumber(v, a === 'score' ? 3 : Number.isInteger(v) ? 0 : 3) : (categories[v] ?? ''));
      return `<line x1="${xAt(k)}" x2="${xAt(k)}" y1="${PAD}" y2="${HEIGHT - PAD}" stroke="#5d6473"/><text x="${xAt(k)}" y="${PAD - 14}" text-anchor="middle">${escapeHtml(a)}</text>` +
        `<text x="${xAt(k) + 4}" y="${PAD + 4}">${escapeHtml(label(hi))}</text><text x="${xAt(k) + 4}" y="${HEIGHT - PAD + 12}">${escapeHtml(label(lo))}</text>`;
    })
    .join('');
  return `<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="parallel coordinates">${lines}${axisMarks}</svg>` +
    `<p class="hint">${scored.length} feasible in-sample trials; colour from the lowest score (blue) to the highest (red); hover a line for its parameters.</p>`;
}

function axes(xs: readonly number[], ys: readonly number[]): [(v: number) => number, (v: number) => number] {
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  return [
    (v) => PAD + ((v - x0) / (x1 - x0 || 1)) * (WIDTH - 2 * PAD),
    (v) => HEIGHT - PAD - ((v - y0) / (y1 - y0 || 1)) * (HEIGHT - 2 * PAD),
  ];
}
