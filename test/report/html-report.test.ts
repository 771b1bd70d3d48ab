import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBacktest, type BacktestResult } from '../../framework/engine/backtest';
import { computeIndicatorColumns } from '../../framework/engine/indicators';
import { replayCandles } from '../../framework/feeds/replay';
import { renderHtmlReport, writeHtmlReport, type HtmlReportInput } from '../../framework/report/html-report';
import { loadStrategy } from '../../framework/strategy/loader';

/**
 * The HTML run report in a real browser: Debian's chromium (scripts/install-chromium.sh) driven by playwright-core,
 * on a real MACD backtest of the shipped Binance BTC/USDT 15m candles (about 22,000 candles, 800+ trades).
 */
const CHROMIUM = '/usr/bin/chromium';
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

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: run scripts/install-chromium.sh (as root) to install Debian's chromium`);
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
  // Once runBacktest writes report.html itself, that file is the one tested.
  reportPath = join(result.dir, 'report.html');
  if (!existsSync(reportPath)) writeHtmlReport(result.dir, input);
  context = await chromium.launchPersistentContext(join(root, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1400, height: 900 },
  });
});

afterAll(async () => {
  await context?.close();
  rmSync(root, { recursive: true, force: true });
});

/** A page opened on `path` with every request outside file: aborted; `problems` collects what went wrong. */
async function open(path: string): Promise<{ page: Page; problems: string[]; requests: string[] }> {
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
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  return { page, problems, requests };
}

/** Distinct RGB colours of a PNG and the fraction of its pixels not of its most common colour (decoded by chromium). */
async function pixelStats(png: Buffer): Promise<{ colours: number; drawn: number }> {
  const page = await context.newPage();
  try {
    return await page.evaluate(async (base64) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const g = canvas.getContext('2d')!;
      g.drawImage(bitmap, 0, 0);
      const rgba = g.getImageData(0, 0, bitmap.width, bitmap.height).data;
      const counts = new Map<number, number>();
      for (let i = 0; i < rgba.length; i += 4) {
        const key = (rgba[i]! << 16) | (rgba[i + 1]! << 8) | rgba[i + 2]!;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      let most = 0;
      for (const n of counts.values()) most = Math.max(most, n);
      return { colours: counts.size, drawn: 1 - most / (rgba.length / 4) };
    }, png.toString('base64'));
  } finally {
    await page.close();
  }
}

/** `2021-01-02 03:04` from an ISO 8601 UTC time. */
function minute(iso: string): string {
  return iso.slice(0, 16).replace('T', ' ');
}

describe('report.html of a real MACD backtest', () => {
  it('is one self-contained file of reasonable size', () => {
    const html = readFileSync(reportPath, 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/[^"'\s]*\.(js|css)\b/i);
    expect(result.summary.candles).toBeGreaterThan(20_000);
    expect(html.length).toBeLessThan(200 * result.summary.candles); // bytes per candle, library included
  });

  it('loads offline with no console error, page error or failed request', async () => {
    const { page, problems, requests } = await open(reportPath);
    expect(problems).toEqual([]);
    expect(requests).toEqual([pathToFileURL(reportPath).href]);
    await page.close();
  });

  it('draws the price chart (with an indicator pane) and the equity chart', async () => {
    const { page, problems } = await open(reportPath);
    for (const id of ['#price-chart', '#equity-chart']) {
      const chart = page.locator(id);
      expect(await chart.locator('canvas').count()).toBeGreaterThan(0);
      const { colours, drawn } = await pixelStats(await chart.screenshot());
      expect(colours, id).toBeGreaterThan(200);
      expect(drawn, id).toBeGreaterThan(0.1);
    }
    const legend = await page.locator('#price-legend').innerText();
    for (const column of ['macd', 'macd_signal', 'macd_hist']) expect(legend).toContain(column);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows every metric with the exact value of summary.json', async () => {
    const summary = JSON.parse(readFileSync(join(result.dir, 'summary.json'), 'utf8')) as {
      metrics: Record<string, number | string | null>;
    };
    const { page } = await open(reportPath);
    const shown = await page.$$eval('[data-metric]', (elements) =>
      elements.map((e) => [e.getAttribute('data-metric'), e.getAttribute('data-value'), e.textContent] as const),
    );
    await page.close();
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

  it('lists every trade of trades.jsonl', async () => {
    const trades = readFileSync(join(result.dir, 'trades.jsonl'), 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { entryTimeIso: string; exitTimeIso: string; side: string });
    expect(trades.length).toBeGreaterThan(100);
    const { page } = await open(reportPath);
    const rows = page.locator('#trades tbody tr');
    expect(await rows.count()).toBe(trades.length);
    for (const i of [0, trades.length - 1]) {
      const cells = await rows.nth(i).locator('td').allInnerTexts();
      expect(cells.slice(1, 5)).toEqual([
        trades[i]!.side,
        minute(trades[i]!.entryTimeIso),
        expect.any(String),
        minute(trades[i]!.exitTimeIso),
      ]);
    }
    await page.close();
  });

  it('escapes every string that comes from the run', async () => {
    const hostile = `</script><img src=x onerror="window.pwned=1">&amp; "quoted" 'single'`;
    const summary = {
      ...input.summary,
      runId: `run-${hostile}`,
      strategy: { name: hostile, parameters: { ...input.summary.strategy.parameters, label: hostile } },
    };
    const trades = input.trades.map((t, i) => (i === 0 ? { ...t, entryTag: hostile, exitTag: `<b>${hostile}</b>` } : t));
    const path = join(root, 'hostile.html');
    writeFileSync(path, renderHtmlReport({ ...input, summary, trades }));
    const { page, problems } = await open(path);
    expect(await page.locator('h1').innerText()).toBe(hostile);
    expect(await page.title()).toContain(hostile);
    const cells = await page.locator('#trades tbody tr').first().locator('td').allInnerTexts();
    expect(cells.slice(-2)).toEqual([hostile, `<b>${hostile}</b>`]);
    expect(await page.locator('img, b').count()).toBe(0);
    expect(await page.evaluate(() => (window as { pwned?: number }).pwned)).toBeUndefined();
    expect(problems).toEqual([]);
    await page.close();
  });
});
