import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tableFromIPC } from 'apache-arrow';
import { readParquet } from 'parquet-wasm';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBacktest, type BacktestResult } from '../../framework/engine/backtest';
import { computeIndicatorColumns } from '../../framework/engine/indicators';
import { sliceBatch } from '../../framework/core/candle';
import { replayCandles } from '../../framework/feeds/replay';
import { readTradesFile } from '../../framework/report/trades-file';
import { chartBars, MAX_CHART_BARS, type ChartData } from '../../framework/report/html/chart-data';
import { layoutIndicators, type IndicatorLayout } from '../../framework/report/html/indicator-layout';
import type { TradeRows } from '../../framework/report/html/sections';
import { formatMoney, formatNumber, formatPercent } from '../../framework/report/format';
import { renderHtmlReport, type HtmlReportInput } from '../../framework/report/html-report';
import { loadStrategy } from '../../framework/strategy/loader';

/**
 * The HTML run report in a real browser: Debian's Chromium headless shell (scripts/install-chromium.sh) driven by
 * playwright-core, on a real MACD backtest of the shipped Binance BTC/USDT 15m candles (about 22,000 candles, 800+
 * trades).
 */
const CHROMIUM = '/usr/bin/chromium-headless-shell';
const STRATEGY = 'strategies/macd.ts';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const root = mkdtempSync(join(tmpdir(), 'html-report-'));
let result: BacktestResult;
let input: HtmlReportInput;
let reportPath: string;
let context: BrowserContext;
/** The run's report, opened once for the browser tests. */
let report: Opened;

interface Opened {
  readonly page: Page;
  /** Console errors and warnings, page errors, failed requests. */
  readonly problems: string[];
  /** Every URL the page requested. */
  readonly requests: string[];
}

/** A page opened on `path` (until it says it is ready) with every request outside file: aborted. */
async function open(path: string): Promise<Opened> {
  const page = await context.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  await page.route('**/*', async (route) => {
    const url = route.request().url();
    requests.push(url);
    if (url.startsWith('file:')) await route.continue();
    else await route.abort();
  });
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
  await page.goto(pathToFileURL(path).href);
  await page.waitForSelector('body[data-ready="true"]');
  return { page, problems, requests };
}

/**
 * Browser-side code (a string: the project's TypeScript has no DOM types) that decodes a base64 PNG and returns its
 * number of distinct RGB colours and the fraction of its pixels not of its most common colour.
 */
const PIXEL_STATS = `async (base64) => {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
  const g = new OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d');
  g.drawImage(bitmap, 0, 0);
  const rgba = g.getImageData(0, 0, bitmap.width, bitmap.height).data;
  const counts = new Map();
  for (let i = 0; i < rgba.length; i += 4) {
    const key = (rgba[i] << 16) | (rgba[i + 1] << 8) | rgba[i + 2];
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const most = Math.max(...counts.values());
  return { colours: counts.size, drawn: 1 - most / (rgba.length / 4) };
}`;

/**
 * The blank page screenshots are decoded in, opened once with the browser: a page per screenshot started a renderer
 * process each (about 1 s of CPU apiece, process accounting).
 */
let decoder: Page;

/** {@link PIXEL_STATS} of a screenshot, decoded by chromium in a blank page. */
async function pixelStats(png: Buffer): Promise<{ colours: number; drawn: number }> {
  return (await decoder.evaluate(`(${PIXEL_STATS})(${JSON.stringify(png.toString('base64'))})`)) as {
    colours: number;
    drawn: number;
  };
}

/**
 * Asserts that the chart in `selector` is drawn, from a screenshot. Calibration (chromium, 1350 px wide): an empty
 * lightweight-charts chart has ~30 colours and ~1% of its pixels off the background, one holding a single short line
 * ~300 colours and ~3%; a drawn run has hundreds to thousands of colours and 7-20% of its pixels drawn.
 */
async function expectDrawn(page: Page, selector: string): Promise<void> {
  const { colours, drawn } = await pixelStats(await page.locator(selector).screenshot());
  expect(colours, selector).toBeGreaterThan(100);
  expect(drawn, selector).toBeGreaterThan(0.05);
}

/** `2021-01-02 03:04` from an ISO 8601 UTC time. */
function minute(iso: string): string {
  return iso.slice(0, 16).replace('T', ' ');
}

describe('report.html of a real MACD backtest', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} not found: run scripts/install-chromium.sh (as root) to install Debian's chromium-headless-shell`);
    }
    result = await runBacktest({ file: STRATEGY, runsRoot: join(root, 'runs') });
    const candles = replayCandles('datasets', result.summary.subscription);
    const { strategy } = await loadStrategy(STRATEGY);
    input = {
      summary: result.summary,
      candles,
      indicators: await computeIndicatorColumns(strategy, candles, STRATEGY),
      trades: result.broker.trades,
      signals: result.engine.signals,
      equity: result.broker.equityCurve,
    };
    // The file under test is the one runBacktest wrote.
    reportPath = result.report;
    context = await chromium.launchPersistentContext(join(root, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1400, height: 900 },
    });
    // A guard against a hang, not a speed target: under load (a profiled suite) opening the 22,000-candle report
    // took over Playwright's default 30 s.
    context.setDefaultTimeout(150_000);
    decoder = await context.newPage();
    report = await open(reportPath);
  });

  afterAll(async () => {
    await context?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('is one self-contained file of reasonable size', () => {
    const html = readFileSync(reportPath, 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/[^"'\s]*\.(js|css)\b/i);
    expect(result.summary.candles).toBeGreaterThan(20_000);
    expect(html.length).toBeLessThan(200 * result.summary.candles); // bytes per candle, library included
  });

  it('loads offline with no console error, page error or failed request', () => {
    expect(report.problems).toEqual([]);
    expect(report.requests).toEqual([pathToFileURL(reportPath).href]);
  });

  it('draws the price chart (with the MACD columns) and the equity chart', async () => {
    for (const id of ['#price-chart', '#equity-chart']) await expectDrawn(report.page, id);
    const legend = await report.page.locator('#price-legend').innerText();
    for (const column of ['macd', 'macd_signal', 'macd_hist']) expect(legend).toContain(column);
    expect(report.problems).toEqual([]);
  });

  it('shows every metric with the exact value of summary.json', async () => {
    const summary = JSON.parse(readFileSync(join(result.dir, 'summary.json'), 'utf8')) as {
      metrics: Record<string, number | string | null>;
    };
    const shown = await report.page.$$eval('[data-metric]', (elements) =>
      elements.map((e) => [e.getAttribute('data-metric'), e.getAttribute('data-value'), e.textContent] as const),
    );
    expect(shown.map(([field]) => field)).toEqual(Object.keys(summary.metrics));
    for (const [field, raw, text] of shown) {
      const expected = summary.metrics[field!];
      // summary.json writes non-finite numbers as the strings "Infinity", "-Infinity", "NaN".
      const value = typeof expected === 'string' ? Number(expected) : expected;
      expect(raw === 'null' ? null : Number(raw), field!).toEqual(value);
      expect(text?.trim(), field!).not.toBe('');
    }
    const text = Object.fromEntries(shown.map(([field, , t]) => [field, t]));
    expect(text['trades']).toBe(String(summary.metrics['trades']));
    expect(text['totalReturn']).toBe(`${((summary.metrics['totalReturn'] as number) * 100).toFixed(2)}%`);
  });

  it('lists every trade of trades.parquet', async () => {
    const trades = readTradesFile(join(result.dir, 'trades.parquet'));
    expect(trades.length).toBeGreaterThan(100);
    const rows = report.page.locator('#trades tbody tr');
    expect(await rows.count()).toBe(trades.length);
    // Every cell of the first, a middle and the last row, as the report's formatters (report/format.ts) write them.
    const precision = (JSON.parse(readFileSync(reportPath, 'utf8').match(/id="trades-data">([^<]*)</)![1]!) as TradeRows).pricePrecision;
    for (const i of [0, Math.floor(trades.length / 2), trades.length - 1]) {
      const t = result.broker.trades[i]!;
      expect(t.side).toBe(trades[i]!.side);
      expect(await rows.nth(i).locator('td').allInnerTexts()).toEqual([
        String(i + 1),
        t.side,
        minute(new Date(trades[i]!.entryTime).toISOString()),
        formatNumber(t.entryPrice, precision),
        minute(new Date(trades[i]!.exitTime).toISOString()),
        formatNumber(t.exitPrice, precision),
        formatNumber(t.quantity, 8), // no lot step in a backtest's broker: Binance's 8 decimals, the same for every row
        formatNumber(t.fees, 2),
        formatMoney(t.pnl, 'USDT'),
        formatPercent(t.returnFraction),
        t.exitReason,
        t.entryTag ?? '',
        t.exitTag ?? '',
      ]);
    }
    expect(precision).toBe(2);
  });

  /**
   * Pixels of the price pane (the top 420 px of #price-chart) in exactly the candles' colours (#26a69a, #ef5350) and in
   * the long-entry arrows' blue (#2962ff; strategies/macd.ts draws no overlay line there).
   */
  async function pricePanePixels(): Promise<{ candle: number; entryBlue: number }> {
    const png = await report.page.locator('#price-chart').screenshot();
    return (await decoder.evaluate(`(async (base64) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
      // The price pane without its price scale (80 px and more on the right): the top 400 px.
      const [w, h] = [bitmap.width - 100, Math.min(400, bitmap.height)];
      const g = new OffscreenCanvas(w, h).getContext('2d');
      g.drawImage(bitmap, 0, 0);
      const d = g.getImageData(0, 0, w, h).data;
      let candle = 0, entryBlue = 0;
      for (let i = 0; i < d.length; i += 4) {
        const rgb = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
        if (rgb === 0x26a69a || rgb === 0xef5350) candle += 1;
        else if (rgb === 0x2962ff) entryBlue += 1;
      }
      return { candle: candle / (d.length / 4), entryBlue: entryBlue / (d.length / 4) };
    })(${JSON.stringify(png.toString('base64'))})`)) as { candle: number; entryBlue: number };
  }

  it('shows the candles at the full view (fills grouped into dots) and every fill as an arrow when zoomed in', async () => {
    // Before any other test zooms the page (the next one clicks a trade row): the report as it opened.
    const page = report.page;
    const full = await pricePanePixels();
    mkdirSync('.tmp', { recursive: true });
    await page.locator('#price-chart').screenshot({ path: '.tmp/report-full-view.png' });
    await page.locator('#trades tbody tr').nth(10).click();
    await expect.poll(async () => (await pricePanePixels()).entryBlue).toBeGreaterThan(0);
    const zoomed = await pricePanePixels();
    await page.locator('#price-chart').screenshot({ path: '.tmp/report-zoomed.png' });
    // Calibration (1400 px wide viewport, ~860 trades): with every arrow drawn at the full view (the old page) 1.4% of
    // the pane was arrow blue and 1.7% in candle colours; with grouped dots, 0% blue and 2.9% candles. Zoomed on a
    // trade: 4.1% candles, 0.1% blue (the arrows are back).
    expect(full.candle, JSON.stringify(full)).toBeGreaterThan(0.022);
    expect(full.entryBlue, JSON.stringify(full)).toBeLessThan(0.001);
    expect(zoomed.candle, JSON.stringify(zoomed)).toBeGreaterThan(0.02);
    expect(report.problems).toEqual([]);
  });

  it('zooms both charts on a trade when its row is clicked', async () => {
    const shots = (): Promise<Buffer[]> =>
      Promise.all(['#price-chart', '#equity-chart'].map((id) => report.page.locator(id).screenshot()));
    const before = await shots(); // zoomed on trade 10 by the test before
    await report.page.locator('#trades tbody tr').nth(300).click();
    await expect
      .poll(async () => (await shots()).map((shot, i) => shot.equals(before[i]!)))
      .toEqual([false, false]);
    expect(report.problems).toEqual([]);
  });

  /** The run's input cut to candles [from, to) (trades, signals and the equity curve inside that span). */
  function rows(from: number, to: number): HtmlReportInput {
    const [start, end] = [input.candles.openTime[from]!, input.candles.openTime[to]!];
    const inside = (time: number): boolean => time >= start && time < end;
    const e = input.equity;
    return {
      ...input,
      candles: sliceBatch(input.candles, from, to),
      indicators: Object.fromEntries(Object.entries(input.indicators).map(([k, v]) => [k, v.subarray(from, to)])),
      trades: input.trades.filter((t) => inside(t.entryTime) && inside(t.exitTime)),
      signals: input.signals.filter((x) => inside(x.openTime)),
      equity: {
        time: e.time.subarray(from, to),
        equity: e.equity.subarray(from, to),
        cash: e.cash.subarray(from, to),
        positionValue: e.positionValue.subarray(from, to),
      },
    };
  }

  it('escapes every string that comes from the run', async () => {
    const hostile = `</script><img src=x onerror="window.pwned=1">&amp; "quoted" 'single'`;
    const cut = rows(0, 2_000);
    const html = renderHtmlReport({
      ...cut,
      summary: {
        ...cut.summary,
        runId: `run-${hostile}`,
        strategy: { name: hostile, parameters: { ...cut.summary.strategy.parameters, label: hostile } },
      },
      indicators: { ...cut.indicators, [hostile]: cut.indicators['macd']! },
      trades: cut.trades.map((t, i) => (i === 0 ? { ...t, entryTag: hostile, exitTag: `<b>${hostile}</b>` } : t)),
    });
    const path = join(root, 'hostile.html');
    writeFileSync(path, html);
    const { page, problems } = await open(path);
    expect(await page.locator('h1').innerText()).toBe(hostile);
    expect(await page.title()).toContain(hostile);
    const cells = await page.locator('#trades tbody tr').first().locator('td').allInnerTexts();
    expect(cells.slice(-2)).toEqual([hostile, `<b>${hostile}</b>`]);
    expect(await page.locator('#price-legend').innerText()).toContain(hostile);
    expect(await page.locator('img, b').count()).toBe(0);
    expect(await page.evaluate('typeof window.pwned')).toBe('undefined');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('charts a run longer than MAX_CHART_BARS candles in merged bars, exactly as a resample would give them', async () => {
    const merged = await runBacktest({ file: 'test/fixtures/report/macd-5m.ts', runsRoot: join(root, 'runs') });
    const candles = replayCandles('datasets', merged.summary.subscription);
    const n = candles.openTime.length;
    expect(n).toBeGreaterThan(MAX_CHART_BARS);
    const html = readFileSync(merged.report, 'utf8');
    const data = JSON.parse(/<script type="application\/json" id="report-data">([^<]*)<\/script>/.exec(html)![1]!) as ChartData;
    expect(data.candlesPerBar).toBe(2);
    expect(data.barSeconds).toBe(600);

    // Bars computed here from the candles: grouped by their 10-minute UTC bucket.
    const buckets = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      const bucket = Math.floor(candles.openTime[i]! / 600_000) * 600;
      buckets.set(bucket, [...(buckets.get(bucket) ?? []), i]);
    }
    let time = 0;
    const barTimes = data.timeDeltas.map((delta) => (time += delta));
    expect(barTimes).toEqual([...buckets.keys()]);
    const rowsOf = [...buckets.values()];
    expect(data.open).toEqual(rowsOf.map((r) => candles.open[r[0]!]));
    expect(data.high).toEqual(rowsOf.map((r) => Math.max(...r.map((i) => candles.high[i]!))));
    expect(data.low).toEqual(rowsOf.map((r) => Math.min(...r.map((i) => candles.low[i]!))));
    expect(data.close).toEqual(rowsOf.map((r) => candles.close[r.at(-1)!]));
    data.volume.forEach((v, b) => expect(v).toBeCloseTo(rowsOf[b]!.reduce((sum, i) => sum + candles.volume[i]!, 0), 6));
    // Equity at each bar's last candle; every marker on a bar.
    const equity = merged.broker.equityCurve.equity;
    expect(data.equity.timeDeltas).toBeNull();
    expect(data.equity.equity).toEqual(rowsOf.map((r) => Number(equity[r.at(-1)!]!.toPrecision(7))));
    const bars = new Set(barTimes);
    let fill = 0;
    const fills = data.fillDeltas.map((delta) => (fill += delta));
    expect(fills).toHaveLength(2 * merged.broker.trades.length);
    expect(fills.every((t) => bars.has(t))).toBe(true);
    merged.broker.trades.forEach((t, i) => {
      expect(fills[2 * i]).toBe(Math.floor(t.entryTime / 600_000) * 600);
      expect(fills[2 * i + 1]).toBe(Math.floor(t.exitTime / 600_000) * 600);
    });

    const { page, problems } = await open(merged.report);
    expect(await page.locator('p.hint').first().innerText()).toContain(
      `Each bar merges 2 candles of 5m (${bars.size.toLocaleString('en-US')} bars for ${n.toLocaleString('en-US')} candles)`,
    );
    for (const id of ['#price-chart', '#equity-chart']) await expectDrawn(page, id);
    expect(await page.locator('#trades tbody tr').count()).toBe(merged.broker.trades.length);
    expect(await page.locator('#price-legend').innerText()).toContain(`${fills.length} entry / exit arrows`);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('draws a live-like run: history before the run, no trades, no indicator columns', async () => {
    // Candles 0..3000 are the history; the "run" (equity curve, summary period) is candles 2000..3000.
    const history = rows(0, 3_000);
    const run = rows(2_000, 3_000);
    const { open_time, open: o, high, low, close, volume } = history.indicators;
    const path = join(root, 'live-like.html');
    writeFileSync(
      path,
      renderHtmlReport({
        summary: {
          ...input.summary,
          mode: 'live',
          firstCandle: run.candles.openTime[0]!,
          lastCandle: run.candles.openTime[999]!,
        },
        candles: history.candles,
        indicators: { open_time: open_time!, open: o!, high: high!, low: low!, close: close!, volume: volume! },
        trades: [],
        signals: [],
        equity: run.equity,
      }),
    );
    const { page, problems } = await open(path);
    expect(await page.locator('#trades tbody tr').count()).toBe(0);
    // Without trades the equity curve is a flat line; the candles must be drawn.
    await expectDrawn(page, '#price-chart');
    expect(problems).toEqual([]);
    await page.close();
  });

  /** The columns of a Parquet file as plain arrays, read with parquet-wasm and apache-arrow (not the project's readers). */
  function parquetColumns(path: string): Record<string, unknown[]> {
    const table = tableFromIPC(readParquet(readFileSync(path)).intoIPCStream());
    return Object.fromEntries(table.schema.fields.map((f) => [f.name, [...table.getChild(f.name)!].map((v) => (typeof v === 'bigint' ? Number(v) : v))]));
  }

  it('shows monthly returns, trade statistics, the return distribution and results by tag and exit reason equal to an independent computation from trades.parquet and equity.parquet', async () => {
    const summary = JSON.parse(readFileSync(join(result.dir, 'summary.json'), 'utf8')) as { metricsFrom: number; candles: number };
    const eq = parquetColumns(join(result.dir, 'equity.parquet'));
    const tr = parquetColumns(join(result.dir, 'trades.parquet'));
    // The metrics start after the strategy's warm-up: strategies/macd.ts declares 400 candles.
    const times = (eq['time'] as (number | Date)[]).map(Number);
    expect(summary.metricsFrom).toBe(times[400]);
    const first = times.indexOf(summary.metricsFrom);
    const time = times.slice(first);
    const equity = (eq['equity'] as number[]).slice(first);

    const shown = new Map(
      (await report.page.$$eval('[data-analytic]', (els) => els.map((e) => [e.getAttribute('data-analytic')!, e.getAttribute('data-value')!] as const))).map(
        ([k, v]) => [k, v === 'null' ? null : Number(v)],
      ),
    );
    const expectShown = (name: string, value: number | null): void => {
      expect(shown.has(name), name).toBe(true);
      if (value === null) expect(shown.get(name), name).toBeNull();
      else expect(shown.get(name)!, name).toBeCloseTo(value, 10);
    };

    // Monthly returns: last equity of each UTC calendar month over the previous month's last (the first month from
    // the first row), keyed by Date's UTC year and month.
    let base = equity[0]!;
    let months = 0;
    for (let i = 0; i < equity.length; i++) {
      const d = new Date(time[i]!);
      const next = i + 1 < equity.length ? new Date(time[i + 1]!) : null;
      if (next === null || next.getUTCMonth() !== d.getUTCMonth() || next.getUTCFullYear() !== d.getUTCFullYear()) {
        expectShown(`month:${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`, equity[i]! / base - 1);
        base = equity[i]!;
        months += 1;
      }
    }
    expect([...shown.keys()].filter((k) => k.startsWith('month:'))).toHaveLength(months);

    // Daily Sharpe: the equity at each UTC day's last candle, returns day to day, mean / sample std × √365.
    const daily: number[] = [];
    let previous = equity[0]!;
    for (let i = 0; i < equity.length; i++) {
      const day = new Date(time[i]!).toISOString().slice(0, 10);
      if (i + 1 === equity.length || new Date(time[i + 1]!).toISOString().slice(0, 10) !== day) {
        daily.push(equity[i]! / previous - 1);
        previous = equity[i]!;
      }
    }
    const mean = daily.reduce((a, b) => a + b) / daily.length;
    const sd = Math.sqrt(daily.map((r) => (r - mean) ** 2).reduce((a, b) => a + b) / (daily.length - 1));
    expectShown('sharpe:daily', (mean / sd) * Math.sqrt(365));

    // Trades: durations, best and worst, distribution, groups.
    const entry = (tr['entry_time'] as (number | Date)[]).map(Number);
    const exit = (tr['exit_time'] as (number | Date)[]).map(Number);
    const pnl = tr['pnl'] as number[];
    const ret = tr['return_fraction'] as number[];
    const reason = tr['exit_reason'] as string[];
    const n = pnl.length;
    expect(n).toBeGreaterThan(100);
    const durations = entry.map((e, i) => exit[i]! - e);
    const sorted = [...durations].sort((a, b) => a - b);
    const avg = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    expectShown('duration:mean', avg(durations));
    expectShown('duration:median', n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2);
    expectShown('duration:min', sorted[0]!);
    expectShown('duration:max', sorted[n - 1]!);
    expectShown('duration:winners', avg(durations.filter((_, i) => pnl[i]! > 0)));
    expectShown('duration:losers', avg(durations.filter((_, i) => !(pnl[i]! > 0))));
    expectShown('trade:best', Math.max(...ret));
    expectShown('trade:worst', Math.min(...ret));
    const [lo, hi] = [Math.min(...ret), Math.max(...ret)];
    const counts = new Array<number>(10).fill(0);
    for (const r of ret) counts[Math.min(9, Math.floor(((r - lo) / (hi - lo)) * 10))]! += 1;
    counts.forEach((c, i) => expectShown(`bin:${i}`, c));
    for (const key of new Set(reason)) {
      const group = [...reason.keys()].filter((i) => reason[i] === key);
      expectShown(`by-exit-reason:${key}:trades`, group.length);
      expectShown(`by-exit-reason:${key}:pnl`, group.reduce((s, i) => s + pnl[i]!, 0));
      expectShown(`by-exit-reason:${key}:winRate`, group.filter((i) => pnl[i]! > 0).length / group.length);
      expectShown(`by-exit-reason:${key}:meanReturn`, avg(group.map((i) => ret[i]!)));
    }
    const tags = (tr['entry_tag'] as (string | null)[]).map((t) => t ?? '(none)');
    for (const key of new Set(tags)) {
      const group = [...tags.keys()].filter((i) => tags[i] === key);
      expectShown(`by-entry-tag:${key}:trades`, group.length);
      expectShown(`by-entry-tag:${key}:pnl`, group.reduce((s, i) => s + pnl[i]!, 0));
    }
  });
});

describe('layoutIndicators on the example strategies', () => {
  async function layoutOf(file: string): Promise<IndicatorLayout> {
    const { strategy, subscriptions } = await loadStrategy(file);
    const candles = replayCandles('datasets', subscriptions[0]!);
    const columns = await computeIndicatorColumns(strategy, candles, file);
    const empty = new Float64Array(candles.openTime.length).fill(Number.NaN);
    return layoutIndicators({ ...columns, never_defined: empty }, candles);
  }

  it('puts MACD in one pane, its histogram as bars', async () => {
    expect(await layoutOf('strategies/macd.ts')).toEqual({
      overlays: [],
      panes: [
        {
          name: 'macd',
          columns: [
            { name: 'macd', style: 'line' },
            { name: 'macd_signal', style: 'line' },
            { name: 'macd_hist', style: 'histogram' },
          ],
        },
      ],
      skipped: ['never_defined'],
    });
  });

  it('draws EMAs and an SMA over the candles and RSI in a pane', async () => {
    expect(await layoutOf('strategies/ema-cross.ts')).toEqual({
      overlays: ['ema_fast', 'ema_slow'],
      panes: [],
      skipped: ['never_defined'],
    });
    expect(await layoutOf('strategies/rsi-mean-reversion.ts')).toEqual({
      overlays: ['sma_trend'],
      panes: [{ name: 'rsi', columns: [{ name: 'rsi', style: 'line' }] }],
      skipped: ['never_defined'],
    });
  });

  it('judges only the rows given: the rows a chart of merged bars draws', () => {
    const candles = replayCandles('datasets', { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '5m' });
    const n = candles.openTime.length;
    const rows = chartBars(candles.openTime, '5m').rows;
    expect(rows.length).toBeLessThan(n);
    // A level that spikes far above the price on one candle no bar ends on: drawn, it never leaves the price range.
    const drawn = new Set(rows);
    const hidden = candles.openTime.findIndex((_, i) => !drawn.has(i));
    expect(hidden).toBeGreaterThanOrEqual(0);
    const level = candles.close.map((c, i) => (i === hidden ? c * 100 : c));
    const columns = { open_time: candles.openTime, close: candles.close, level };
    expect(layoutIndicators(columns, candles).overlays).toEqual([]);
    expect(layoutIndicators(columns, candles, rows).overlays).toEqual(['level']);
  });
});
