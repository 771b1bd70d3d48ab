/**
 * Rich outputs for the notebooks: HTML tables and SVG charts.
 *
 * Each function returns an object carrying the Jupyter display protocol method `Symbol.for('Jupyter.display')`, which
 * returns a MIME bundle (`{ 'text/html': …, 'text/plain': … }`); Deno's Jupyter kernel renders such an object when
 * a cell evaluates to it or when it is passed to `Deno.jupyter.display`
 * (https://docs.deno.com/runtime/reference/cli/jupyter/).
 * The charts are plain SVG built here, so they render in Jupyter, VS Code and GitHub's notebook viewer alike and need
 * no browser while the notebook executes (danfojs' own plotting needs one).
 *
 * @module
 */

/** The Jupyter display protocol key read by Deno's kernel. */
export const JUPYTER_DISPLAY: unique symbol = Symbol.for('Jupyter.display') as never;

/** A MIME bundle: MIME type → content. */
export type MimeBundle = Readonly<Record<string, string>>;

/** Something a notebook cell can evaluate to and see rendered. */
export interface Displayable {
  readonly [JUPYTER_DISPLAY]: () => MimeBundle;
}

/** Column names and rows of values, oldest first: a danfojs `DataFrame` has exactly this shape. */
export interface TableLike {
  readonly columns: readonly string[];
  readonly values: readonly (readonly unknown[])[];
}

/** Options of {@link table}. */
export interface TableOptions {
  /** Rows shown (the first ones); the rest are counted in the caption. Default 20. */
  readonly maxRows?: number;
  /** Text above the table. */
  readonly caption?: string;
}

/**
 * An HTML table (and an aligned plain-text copy) of `data`. Numbers are shown with up to 6 decimals, `NaN` as `NaN`.
 *
 * @param data - a danfojs `DataFrame` or anything with `columns` and row `values`.
 */
export function table(data: TableLike, options: TableOptions = {}): Displayable {
  const maxRows = options.maxRows ?? 20;
  const rows = data.values.slice(0, maxRows).map((row) => row.map(formatCell));
  const more = data.values.length - rows.length;
  const caption = [options.caption, more > 0 ? `first ${rows.length} of ${data.values.length} rows` : undefined]
    .filter((part) => part !== undefined)
    .join(' · ');
  const html =
    '<table class="dataframe">' +
    (caption === '' ? '' : `<caption>${escapeHtml(caption)}</caption>`) +
    `<thead><tr>${data.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.map((row) => `<tr>${row.map((v) => `<td>${escapeHtml(v)}</td>`).join('')}</tr>`).join('')}</tbody>` +
    '</table>';
  const widths = data.columns.map((c, j) => Math.max(c.length, ...rows.map((row) => row[j]!.length)));
  const line = (cells: readonly string[]) => cells.map((cell, j) => cell.padStart(widths[j]!)).join('  ');
  const text = [caption, line(data.columns), ...rows.map(line)].filter((l) => l !== '').join('\n');
  return { [JUPYTER_DISPLAY]: () => ({ 'text/html': html, 'text/plain': text }) };
}

/** A line of a {@link ChartPanel}: `x` in UTC epoch ms, `y` in the panel's unit; NaN values leave a gap. */
export interface ChartLine {
  readonly x: ArrayLike<number>;
  readonly y: ArrayLike<number>;
  readonly label: string;
  readonly color: string;
  /** Draw vertical bars from 0 instead of a line (e.g. a MACD histogram). */
  readonly bars?: boolean;
}

/** A triangle on a panel: `up` (an entry) or `down` (an exit), at `x` (UTC epoch ms) and `y`. */
export interface ChartMarker {
  readonly x: number;
  readonly y: number;
  readonly kind: 'up' | 'down';
  readonly color: string;
  /** Tooltip text. */
  readonly title: string;
  /** CSS class, e.g. `entry` or `exit` (the SVG element gets `class="marker <className>"`). */
  readonly className: string;
}

/** One panel of a {@link chart}, stacked top to bottom, sharing the time axis. */
export interface ChartPanel {
  readonly height: number;
  readonly lines: readonly ChartLine[];
  readonly markers?: readonly ChartMarker[];
  /** Draw a horizontal line at y = 0. */
  readonly zeroLine?: boolean;
}

/** A chart: a title and panels over a shared time axis. */
export interface ChartSpec {
  readonly title: string;
  readonly panels: readonly ChartPanel[];
  /** Width in px; default 900. */
  readonly width?: number;
}

const MARGIN = { left: 70, right: 20, top: 30, bottom: 30 };
const GAP = 16;

/**
 * An SVG chart (MIME type `image/svg+xml`) of time series in stacked panels with a shared UTC time axis.
 * The root `<svg>` carries `data-x-min` and `data-x-max` (UTC epoch ms) so that a reader can tell the range shown.
 */
export function chart(spec: ChartSpec): Displayable {
  const width = spec.width ?? 900;
  const xs = spec.panels.flatMap((p) => p.lines.flatMap((l) => [min(l.x), max(l.x)]));
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const sx = (x: number) => MARGIN.left + ((x - x0) / (x1 - x0 || 1)) * plotWidth;
  const parts: string[] = [
    `<text x="${MARGIN.left}" y="18" font-size="14" font-weight="bold">${escapeHtml(spec.title)}</text>`,
  ];
  let top = MARGIN.top;
  for (const panel of spec.panels) {
    parts.push(renderPanel(panel, top, sx, width));
    top += panel.height + GAP;
  }
  const height = top - GAP + MARGIN.bottom;
  for (const [t, label] of timeTicks(x0, x1, 6)) {
    const x = sx(t);
    const anchor = x > width - MARGIN.right - 40 ? 'end' : 'middle'; // keep the last label inside the picture
    parts.push(`<text x="${x.toFixed(1)}" y="${height - 10}" font-size="11" text-anchor="${anchor}">${label}</text>`);
  }
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `font-family="sans-serif" data-x-min="${x0}" data-x-max="${x1}">` +
    `<rect width="${width}" height="${height}" fill="white"/>${parts.join('')}</svg>`;
  return { [JUPYTER_DISPLAY]: () => ({ 'image/svg+xml': svg }) };
}

function renderPanel(panel: ChartPanel, top: number, sx: (x: number) => number, width: number): string {
  const ys = panel.lines.flatMap((l) => (l.bars === true ? [0, min(l.y), max(l.y)] : [min(l.y), max(l.y)]));
  for (const m of panel.markers ?? []) ys.push(m.y);
  if (panel.zeroLine === true) ys.push(0);
  let y0 = Math.min(...ys);
  let y1 = Math.max(...ys);
  const pad = (y1 - y0) * 0.05 || Math.abs(y1) * 0.05 || 1;
  y0 -= pad;
  y1 += pad;
  const sy = (y: number) => top + panel.height - ((y - y0) / (y1 - y0)) * panel.height;
  const right = width - MARGIN.right;
  const out: string[] = [
    `<rect x="${MARGIN.left}" y="${top}" width="${right - MARGIN.left}" height="${panel.height}" ` +
      'fill="none" stroke="#ccc"/>',
  ];
  for (const t of niceTicks(y0, y1, 5)) {
    const y = sy(t).toFixed(1);
    out.push(`<line x1="${MARGIN.left}" x2="${right}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${y}" font-size="11" text-anchor="end" dy="4">${numberLabel(t)}</text>`);
  }
  if (panel.zeroLine === true) {
    const y = sy(0).toFixed(1);
    out.push(`<line x1="${MARGIN.left}" x2="${right}" y1="${y}" y2="${y}" stroke="#999"/>`);
  }
  panel.lines.forEach((line, k) => {
    out.push(line.bars === true ? renderBars(line, sx, sy) : renderLine(line, sx, sy));
    out.push(
      `<text x="${MARGIN.left + 8}" y="${top + 14 + 14 * k}" font-size="11" fill="${line.color}" ` +
        `stroke="white" stroke-width="3" paint-order="stroke">${escapeHtml(line.label)}</text>`,
    );
  });
  for (const m of panel.markers ?? []) {
    const x = sx(m.x);
    const y = sy(m.y);
    const base = m.kind === 'up' ? y + 10 : y - 10; // the triangle's point touches the value
    const tip = m.kind === 'up' ? y + 2 : y - 2;
    const [l, r, mid] = [x - 5, x + 5, x].map((v) => v.toFixed(1));
    const d = `M${l},${base.toFixed(1)} L${r},${base.toFixed(1)} L${mid},${tip.toFixed(1)} Z`;
    const title = `<title>${escapeHtml(m.title)}</title>`;
    out.push(`<path class="marker ${escapeHtml(m.className)}" d="${d}" fill="${m.color}">${title}</path>`);
  }
  return out.join('');
}

function renderLine(line: ChartLine, sx: (x: number) => number, sy: (y: number) => number): string {
  let d = '';
  let pen = 'M';
  for (let i = 0; i < line.x.length; i++) {
    const y = line.y[i]!;
    if (!Number.isFinite(y)) {
      pen = 'M';
      continue;
    }
    d += `${pen}${sx(line.x[i]!).toFixed(1)},${sy(y).toFixed(1)}`;
    pen = 'L';
  }
  return `<path d="${d}" fill="none" stroke="${line.color}" stroke-width="1.2"/>`;
}

function renderBars(line: ChartLine, sx: (x: number) => number, sy: (y: number) => number): string {
  const zero = sy(0);
  let d = '';
  for (let i = 0; i < line.x.length; i++) {
    const y = line.y[i]!;
    if (Number.isFinite(y)) d += `M${sx(line.x[i]!).toFixed(1)},${zero.toFixed(1)}V${sy(y).toFixed(1)}`;
  }
  return `<path d="${d}" stroke="${line.color}" stroke-width="2"/>`;
}

/** Round tick values (1, 2 or 5 × 10^k apart, about `count` of them) covering [lo, hi]. */
function niceTicks(lo: number, hi: number, count: number): number[] {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const power = 10 ** Math.floor(Math.log10(span / count));
  const steps = [1, 2, 5, 10].map((m) => m * power);
  const step = steps.reduce((best, s) => (Math.abs(span / s - count) < Math.abs(span / best - count) ? s : best));
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) ticks.push(t);
  return ticks;
}

const MINUTE = 60_000;
const DAY = 86_400_000;
const TIME_STEPS = [
  ...[1, 5, 15, 30, 60, 120, 180, 360, 720].map((m) => m * MINUTE),
  ...[1, 2, 7, 14].map((d) => d * DAY),
];

/** Tick times (UTC epoch ms) with labels: multiples of a round step (1 minute … 14 days), or month starts. */
function timeTicks(lo: number, hi: number, count: number): [number, string][] {
  const raw = (hi - lo) / count;
  const step = TIME_STEPS.find((s) => s >= raw);
  if (step !== undefined) {
    const ticks: [number, string][] = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) {
      const iso = new Date(t).toISOString();
      ticks.push([t, step < DAY ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(0, 10)]);
    }
    return ticks;
  }
  const months = [1, 2, 3, 6, 12].find((m) => m * 30 * DAY >= raw) ?? 12;
  const ticks: [number, string][] = [];
  const start = new Date(lo);
  for (let m = start.getUTCFullYear() * 12 + start.getUTCMonth() + 1; ; m += 1) {
    const t = Date.UTC(Math.floor(m / 12), m % 12, 1);
    if (t > hi) return ticks;
    if (m % months === 0) ticks.push([t, new Date(t).toISOString().slice(0, 7)]);
  }
}

function numberLabel(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1000) return value.toLocaleString('en-US', { maximumFractionDigits: 0 });
  return Number(value.toPrecision(4)).toString();
}

function formatCell(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(6)));
  if (value === null || value === undefined) return '';
  return String(value);
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function min(values: ArrayLike<number>): number {
  let out = Number.POSITIVE_INFINITY;
  for (let i = 0; i < values.length; i++) if (values[i]! < out) out = values[i]!;
  return out;
}

function max(values: ArrayLike<number>): number {
  let out = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) if (values[i]! > out) out = values[i]!;
  return out;
}

/** What {@link heatmap} draws: `z[i][j]` at column `x[j]` and row `y[i]` (NaN: no value, drawn grey). */
export interface HeatmapSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly x: readonly (number | string)[];
  readonly y: readonly (number | string)[];
  readonly z: readonly (readonly number[])[];
}

/**
 * An SVG heatmap (MIME type `image/svg+xml`): one cell per (x, y), coloured from the lowest value (blue) to the highest
 * (red), the value written in each cell; every cell is a `<rect>` with `data-x`, `data-y` and `data-z`.
 */
export function heatmap(spec: HeatmapSpec): Displayable {
  const cell = 44;
  const [left, top] = [70, 40];
  const values = spec.z.flat().filter(Number.isFinite);
  const [lo, hi] = [Math.min(...values), Math.max(...values)];
  const parts: string[] = [`<text x="${left}" y="18" font-size="14" font-weight="bold">${escapeHtml(spec.title)}</text>`];
  spec.y.forEach((yv, i) =>
    spec.x.forEach((xv, j) => {
      const z = spec.z[i]![j]!;
      const t = hi > lo ? (z - lo) / (hi - lo) : 1;
      const fill = Number.isFinite(z) ? `rgb(${Math.round(40 + 200 * t)},${Math.round(90 - 40 * t)},${Math.round(230 - 190 * t)})` : '#ddd';
      const [x, y] = [left + j * cell, top + (spec.y.length - 1 - i) * cell];
      parts.push(
        `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${fill}" data-x="${escapeHtml(String(xv))}" data-y="${escapeHtml(String(yv))}" data-z="${z}"/>` +
          `<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" font-size="10" text-anchor="middle" fill="white">${Number.isFinite(z) ? numberLabel(Number(z.toFixed(2))) : ''}</text>`,
      );
    }),
  );
  const bottom = top + spec.y.length * cell;
  spec.x.forEach((xv, j) => parts.push(`<text x="${left + j * cell + cell / 2}" y="${bottom + 14}" font-size="11" text-anchor="middle">${escapeHtml(String(xv))}</text>`));
  spec.y.forEach((yv, i) => parts.push(`<text x="${left - 6}" y="${top + (spec.y.length - 1 - i) * cell + cell / 2 + 4}" font-size="11" text-anchor="end">${escapeHtml(String(yv))}</text>`));
  parts.push(`<text x="${left + (spec.x.length * cell) / 2}" y="${bottom + 32}" font-size="12" text-anchor="middle">${escapeHtml(spec.xLabel)}</text>`);
  parts.push(`<text x="14" y="${top + (spec.y.length * cell) / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${top + (spec.y.length * cell) / 2})">${escapeHtml(spec.yLabel)}</text>`);
  const [width, height] = [left + spec.x.length * cell + 20, bottom + 44];
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">` +
    `<rect width="${width}" height="${height}" fill="white"/>${parts.join('')}</svg>`;
  return { [JUPYTER_DISPLAY]: () => ({ 'image/svg+xml': svg }) };
}
