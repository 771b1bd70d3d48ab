/**
 * The HTML report of a run, `runs/<run-id>/report.html`: one self-contained page that opens offline.
 *
 * @module
 */
import { closeSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { EquityCurve } from '../broker/equity-curve';
import type { Trade } from '../broker/types';
import { batchLength, type CandleBatch } from '../core/candle';
import { FrameworkError } from '../core/errors';
import { describeSubscription } from '../core/subscription';
import type { FrameColumns } from '../strategy/frame';
import { chartBars, chartData, type ChartData } from './html/chart-data';
import { escapeHtml, jsonForScript, writeJsonForScript } from './html/format';
import { layoutIndicators } from './html/indicator-layout';
import { pageStart } from './html/page';
import { headerHtml, metricsHtml, quoteCurrency, signalsHtml, tradeRows, tradesTableHtml } from './html/sections';
import { groupTableHtml, monthlyReturnsHtml, returnDistributionHtml, tradeStatsHtml } from './html/analytics-sections';
import { computeAnalytics } from './analytics';
import { annualisationWarning } from './metrics';
import { lowerBound } from '../core/search';
import { nextOpenTime } from '../core/timeframe';
import type { RunSummary, SignalOutcome } from './run-summary';
import { writeAll } from '../store/durable';
import { createArtifact } from './artifact';
import { formatMinute } from './format';

/**
 * What the HTML report shows.
 *
 * - `summary`: the run's summary (as written to `summary.json`);
 * - `candles`: the candles the indicators were computed over, oldest first;
 * - `indicators`: the strategy's frame columns over those candles ({@link FrameColumns}: `open_time`, OHLCV and the
 *   indicator columns, e.g. what `Engine.replay` returns), each as long as `candles`;
 * - `trades`, `signals`, `equity`: the run's closed trades, its signals' outcomes (the journal's records will do, or
 *   `SignalJournal.outcomes()`) and equity curve.
 *
 * For a live run `candles` may start before the run (its warm-up history): the charts open on the run's period
 * (`summary.firstCandle` to `summary.lastCandle`) and the earlier candles are a scroll away.
 */
export interface HtmlReportInput {
  readonly summary: RunSummary;
  readonly candles: CandleBatch;
  readonly indicators: FrameColumns;
  readonly trades: readonly Trade[];
  readonly signals: readonly SignalOutcome[];
  readonly equity: EquityCurve;
}

/** File name of the HTML report inside a run directory. */
export const HTML_REPORT_FILE = 'report.html';

/**
 * Renders the HTML report of a run: a header (strategy, market, period, parameters, broker), every metric of
 * `summary.metrics`, a candlestick chart (volume, indicator overlays and panes, entry and exit markers at the fill
 * prices), the equity curve with its drawdown, the trades table and a summary of the signals.
 *
 * The page is self-contained: TradingView's lightweight-charts (Apache-2.0, https://github.com/tradingview/lightweight-charts,
 * its standalone production build), the page script and the styles are inlined, and the chart data (`ChartData` of
 * `report/html/chart-data.ts`) and the trades (`TradeRows` of `report/html/sections.ts`, which the page script turns
 * into the trades table and, with `ChartData.fillDeltas`, into the entry and exit markers) are embedded as JSON; it
 * makes no network request. Which indicator columns are overlays and which get a pane is decided by
 * {@link layoutIndicators} over the rows the chart draws. A run longer than `MAX_CHART_BARS` (50,000) candles is
 * charted in bars that each merge several candles (see `ChartData`). Chart values derived from the run (indicators, equity) are rounded to
 * `CHART_SIGNIFICANT_DIGITS` (7) significant digits and times are delta-encoded to keep the file small (about
 * 100 bytes per candle for MACD with 3 indicator columns; 2.3 MB for 22,000 candles); candle prices and every metric
 * are exact: each metric element carries `data-metric="<field>"` and `data-value="<exact value>"` (`metricsHtml` of
 * `report/html/sections.ts`). All strings from the run are HTML-escaped.
 *
 * @returns the page, UTF-8 text.
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} when there are no candles, an indicator column's length
 *   differs from the candles', the frame's `open_time` differs from the candles' open times, or the equity columns
 *   differ in length.
 */
export function renderHtmlReport(input: HtmlReportInput): string {
  const [head, data, tail] = renderParts(input);
  return `${head}${jsonForScript(data)}${tail}`;
}

/**
 * The page in three parts: before the chart data, the chart data (its JSON, embedded as `jsonForScript` writes it, is
 * most of the page), after it. {@link writeHtmlReport} writes the JSON piece by piece, never holding it whole.
 */
function renderParts(input: HtmlReportInput): [string, ChartData, string] {
  check(input);
  const { summary, candles, indicators, trades, signals, equity } = input;
  const bars = chartBars(candles.openTime, summary.timeframe);
  const layout = layoutIndicators(indicators, candles, bars.rows);
  const data = chartData({
    candles,
    bars,
    indicators,
    layout,
    trades,
    equity,
    firstCandle: summary.firstCandle,
    lastCandle: summary.lastCandle,
    metricsFrom: summary.metricsFrom ?? summary.firstCandle,
  });
  const metricsFrom = summary.metricsFrom ?? summary.firstCandle;
  const from = lowerBound(equity.time, metricsFrom);
  const analytics = computeAnalytics(equity.time.subarray(from), equity.equity.subarray(from), trades);
  const span = nextOpenTime(summary.lastCandle, summary.timeframe) - metricsFrom;
  const warning = annualisationWarning(span, equity.time.length - from);
  const quote = quoteCurrency(summary);
  const assets = pageAssets();
  const title = `${summary.strategy.name} · ${describeSubscription(summary.subscription)} · ${summary.runId}`;
  const skipped =
    layout.skipped.length === 0 ? '' : ` Not drawn (no finite value): ${layout.skipped.join(', ')}.`;
  const merged =
    data.candlesPerBar === 1
      ? ''
      : ` Each bar merges ${data.candlesPerBar} candles of ${summary.timeframe} (${data.open.length.toLocaleString('en-US')} ` +
        `bars for ${batchLength(candles).toLocaleString('en-US')} candles); indicators and equity are shown at each bar's ` +
        'last candle. The metrics and trades use every candle.';
  return [
    `${pageStart(title)}${headerHtml(summary)}
<section>
<h2>Metrics</h2>
${metricsHtml(summary)}
${warning === null ? '' : `<p class="warning" id="short-run">${escapeHtml(warning)}</p>`}
${from === 0 ? '' : `<p class="note">The metrics and the analysis below start after the strategy's warm-up, at ${escapeHtml(formatMinute(metricsFrom))} UTC.</p>`}
</section>
<section>
<h2>Price</h2>
<div id="price-chart" class="chart"></div>
<div id="price-legend" class="legend"></div>
<p class="hint">Times in UTC. Scroll or drag to move, wheel or pinch to zoom; the equity chart follows.${escapeHtml(merged + skipped)}</p>
</section>
<section>
<h2>Equity and drawdown</h2>
<div id="equity-chart" class="chart"></div>
</section>
<section>
<h2>Monthly returns</h2>
${monthlyReturnsHtml(analytics)}
</section>
<section>
<h2>Trade statistics</h2>
${tradeStatsHtml(analytics, quote)}
<h3>Distribution of trade returns</h3>
${returnDistributionHtml(analytics)}
<h3>By entry tag</h3>
${groupTableHtml('by-entry-tag', 'Entry tag', analytics.byEntryTag, quote)}
<h3>By exit reason</h3>
${groupTableHtml('by-exit-reason', 'Exit reason', analytics.byExitReason, quote)}
</section>
<section>
<h2>Trades (${trades.length})</h2>
<p class="hint">Click a trade to zoom the charts on it.</p>
<div class="table-wrap">
${tradesTableHtml()}
</div>
</section>
<section>
<h2>Signals (${signals.length})</h2>
${signalsHtml(signals)}
</section>
<script type="application/json" id="trades-data">${jsonForScript(tradeRows(trades, summary, data.pricePrecision))}</script>
<script type="application/json" id="report-data">`,
    data,
    `</script>
<script>
${assets.library}
</script>
<script>
${assets.client}
</script>
</body>
</html>
`,
  ];
}

/**
 * Renders the report ({@link renderHtmlReport}) and writes it to `<dir>/report.html` (UTF-8).
 *
 * @param dir - the run directory, which must exist (e.g. from `createRunDir`).
 * @returns the path written.
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} when the file already exists (nothing is overwritten)
 *   or the input is inconsistent; other file-system errors propagate.
 */
export function writeHtmlReport(dir: string, input: HtmlReportInput): string {
  const path = join(dir, HTML_REPORT_FILE);
  const [head, data, tail] = renderParts(input);
  const fd = createArtifact(path);
  try {
    let pending: string[] = [];
    let size = 0;
    const flush = (): void => {
      const text = pending.join('');
      pending = [];
      size = 0;
      writeAll(fd, Buffer.from(text));
    };
    const write = (text: string): void => {
      pending.push(text);
      size += text.length;
      if (size >= 1 << 20) flush();
    };
    // The page around the data holds non-Latin-1 text (`→`): written apart, the JSON pieces stay one-byte strings.
    write(head);
    flush();
    writeJsonForScript(data, write);
    flush();
    write(tail);
    flush();
  } finally {
    closeSync(fd);
  }
  return path;
}

function check(input: HtmlReportInput): void {
  const n = batchLength(input.candles);
  const where = `HTML report of run ${input.summary.runId}`;
  if (n === 0) throw new FrameworkError(`${where}: no candles to chart`);
  for (const [name, values] of Object.entries(input.indicators)) {
    if (values.length !== n) {
      throw new FrameworkError(`${where}: indicator column "${name}" has ${values.length} rows for ${n} candles`);
    }
  }
  const openTime = input.indicators['open_time'];
  if (openTime === undefined || openTime[0] !== input.candles.openTime[0] || openTime[n - 1] !== input.candles.openTime[n - 1]) {
    throw new FrameworkError(`${where}: the indicator columns' open_time does not match the candles' open times`);
  }
  const e = input.equity;
  if (e.equity.length !== e.time.length) {
    throw new FrameworkError(`${where}: the equity curve has ${e.equity.length} equity values for ${e.time.length} times`);
  }
}

interface PageAssets {
  readonly library: string;
  readonly client: string;
}

let assets: PageAssets | undefined;

/** The inlined library and page script, read once from disk. */
function pageAssets(): PageAssets {
  if (assets === undefined) {
    const require = createRequire(import.meta.url);
    const library = join(
      dirname(require.resolve('lightweight-charts/package.json')),
      'dist',
      'lightweight-charts.standalone.production.js',
    );
    assets = {
      library: inlineScript(readFileSync(library, 'utf8'), library),
      client: inlineScript(readFileSync(new URL('./html/report-client.js', import.meta.url), 'utf8'), 'report-client.js'),
    };
  }
  return assets;
}

/** A script's text checked for what would end an inline `<script>` element early. */
function inlineScript(text: string, file: string): string {
  if (/<\/script|<!--/i.test(text)) {
    throw new FrameworkError(`${file} contains "</script" or "<!--" and cannot be inlined into the HTML report`);
  }
  return text;
}
