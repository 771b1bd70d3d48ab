/**
 * The static HTML sections of the run report: the run's header, the metrics, the trades table and the signal
 * summary. Every string from the run (strategy name, parameters, tags, reasons) is escaped.
 *
 * @module
 */
import type { Trade } from '../../broker/types';
import { describeSubscription } from '../../core/subscription';
import type { Metrics } from '../metrics';
import type { RunSummary, SignalOutcome } from '../run-summary';
import { formatDuration, formatMinute, formatMoney, formatNumber, formatPercent } from '../format';
import { escapeHtml } from './format';

type MetricKind = 'money' | 'percent' | 'ratio' | 'duration' | 'count';

/** Label and format of every metric; typed on `keyof Metrics` so a new metric cannot be left without one. */
const METRICS: Readonly<Record<keyof Metrics, { readonly label: string; readonly kind: MetricKind }>> = {
  startEquity: { label: 'Start equity', kind: 'money' },
  endEquity: { label: 'End equity', kind: 'money' },
  totalReturn: { label: 'Total return', kind: 'percent' },
  cagr: { label: 'CAGR', kind: 'percent' },
  sharpe: { label: 'Sharpe', kind: 'ratio' },
  sortino: { label: 'Sortino', kind: 'ratio' },
  calmar: { label: 'Calmar', kind: 'ratio' },
  maxDrawdown: { label: 'Max drawdown', kind: 'percent' },
  maxDrawdownDuration: { label: 'Max drawdown duration', kind: 'duration' },
  trades: { label: 'Trades', kind: 'count' },
  winRate: { label: 'Win rate', kind: 'percent' },
  profitFactor: { label: 'Profit factor', kind: 'ratio' },
  expectancy: { label: 'Expectancy', kind: 'money' },
  expectancyFraction: { label: 'Expectancy per trade', kind: 'percent' },
  exposure: { label: 'Exposure', kind: 'percent' },
  buyAndHoldReturn: { label: 'Buy & hold return', kind: 'percent' },
};

/** The quote currency of a run's symbol: `USDT` for `BTC/USDT`. */
export function quoteCurrency(summary: RunSummary): string {
  return summary.subscription.symbol.split('/')[1] ?? 'quote';
}

/** The page header: strategy, market, mode, run id, period, parameters and broker settings. */
export function headerHtml(summary: RunSummary): string {
  const b = summary.broker;
  const quote = quoteCurrency(summary);
  const params = Object.entries(summary.strategy.parameters).map(([k, v]) => `${k}=${String(v)}`);
  const stake = 'fraction' in b.stake ? `${formatPercent(b.stake.fraction)} of equity` : formatMoney(b.stake.quote, quote);
  const facts: [string, string][] = [
    ['Period', `${formatMinute(summary.firstCandle)} → ${formatMinute(summary.lastCandle)} UTC (open times)`],
    ['Candles', formatNumber(summary.candles, 0)],
    ['Parameters', params.length === 0 ? 'none' : params.join(', ')],
    [
      'Broker',
      `initial cash ${formatMoney(b.initialCash, quote)}, fee ${formatPercent(b.feeRate, 3)}, ` +
        `slippage ${b.slippageBps} bps, stake ${stake}`,
    ],
  ];
  return [
    '<header>',
    `<h1>${escapeHtml(summary.strategy.name)}</h1>`,
    `<p class="sub">${escapeHtml(describeSubscription(summary.subscription))} · ${escapeHtml(summary.mode)} · ` +
      `run <code>${escapeHtml(summary.runId)}</code></p>`,
    `<dl class="facts">${facts.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>`,
    '</header>',
  ].join('\n');
}

/**
 * Every field of `summary.metrics`, in its order, as `<dd data-metric="<field>" data-value="<raw>">human text</dd>`.
 * `data-value` is the exact value as JavaScript prints it (`String(v)`: shortest round-trip decimal, `Infinity`,
 * `NaN`) or `null`; it equals the value in `summary.json`, where non-finite numbers are the strings `"Infinity"`,
 * `"-Infinity"`, `"NaN"`.
 */
export function metricsHtml(summary: RunSummary): string {
  const quote = quoteCurrency(summary);
  const items = Object.entries(summary.metrics).map(([field, value]: [string, number | null]) => {
    // A field the Metrics type does not know (a summary from a newer version) is still shown, as a plain number.
    const spec = METRICS[field as keyof Metrics] ?? { label: field, kind: 'ratio' };
    const raw = value === null ? 'null' : String(value);
    return (
      `<div class="metric"><dt>${escapeHtml(spec.label)}</dt>` +
      `<dd data-metric="${escapeHtml(field)}" data-value="${escapeHtml(raw)}" title="${escapeHtml(raw)}">` +
      `${escapeHtml(formatMetric(value, spec.kind, quote))}</dd></div>`
    );
  });
  return `<dl class="metrics">\n${items.join('\n')}\n</dl>`;
}

function formatMetric(value: number | null, kind: MetricKind, quote: string): string {
  switch (kind) {
    case 'money':
      return formatMoney(value, quote);
    case 'percent':
      return formatPercent(value);
    case 'ratio':
      return formatNumber(value, 2);
    case 'duration':
      return value === null ? 'n/a' : formatDuration(value);
    case 'count':
      return value === null ? 'n/a' : String(value);
  }
}

const TRADE_HEADINGS = [
  '#', 'Side', 'Entry (UTC)', 'Entry price', 'Exit (UTC)', 'Exit price', 'Quantity', 'Fees', 'PnL', 'Return',
  'Exit reason', 'Entry tag', 'Exit tag',
] as const;

/**
 * The trades of a run as the page script fills the trades table from them (embedded as JSON): `quote`, the quote
 * currency; `pricePrecision`, decimals for prices; `quantityPrecision`, decimals for quantities (those of the market's
 * lot step when the broker had one, e.g. 5 for Binance BTC/USDT's 0.00001, else 8, Binance's finest); one row per trade,
 * `[side, entryTime, entryPrice, exitTime, exitPrice, quantity, fees, pnl, returnFraction, exitReason, entryTag, exitTag]`
 * (times UTC epoch ms, prices and money in the quote currency, `returnFraction` a fraction: 0.01 = 1%, absent tags as `""`).
 */
export interface TradeRows {
  readonly quote: string;
  readonly pricePrecision: number;
  readonly quantityPrecision: number;
  readonly rows: readonly (readonly (string | number)[])[];
}

/** Decimals of a lot step (`0.00001` → 5; at most 8), or 8 without one. */
export function stepDecimals(step: number | undefined): number {
  if (step === undefined) return 8;
  for (let d = 0; d < 8; d++) {
    const scaled = step * 10 ** d;
    if (Math.round(scaled) >= 1 && Math.abs(Math.round(scaled) - scaled) < 1e-9) return d;
  }
  return 8;
}

/** The {@link TradeRows} of `trades`. */
export function tradeRows(trades: readonly Trade[], summary: RunSummary, pricePrecision: number): TradeRows {
  return {
    quote: quoteCurrency(summary),
    pricePrecision,
    quantityPrecision: stepDecimals(summary.broker.amountStep),
    rows: trades.map((t) => [
      t.side, t.entryTime, t.entryPrice, t.exitTime, t.exitPrice, t.quantity, t.fees, t.pnl, t.returnFraction,
      t.exitReason, t.entryTag ?? '', t.exitTag ?? '',
    ]),
  };
}

/**
 * The trades table `<table id="trades">` with an empty `<tbody>`: the page script adds one `<tr>` per trade from the
 * {@link TradeRows} (a long backtest has tens of thousands; as JSON they cost the report a tenth of what HTML rows
 * did), formatted as `report/format.ts` formats (en-US numbers, `2021-01-02 03:04` times), each carrying `data-entry`
 * and `data-exit` (open times of the entry and exit candles, UTC seconds) to zoom the chart on a click.
 */
export function tradesTableHtml(): string {
  return [
    '<table id="trades">',
    `<thead><tr>${TRADE_HEADINGS.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>`,
    '<tbody></tbody>',
    '</table>',
  ].join('\n');
}

/**
 * The signal summary `<table id="signals">`: per action, how many signals the strategy returned, how many the broker
 * acted on, and why the others were not: each reason with its count, most frequent first, reasons grouped by their
 * text before the first `:` (`warm-up: candle 5 of 100` and `warm-up: candle 6 of 100` count as `warm-up`).
 */
export function signalsHtml(signals: readonly SignalOutcome[]): string {
  const byAction = new Map<string, { total: number; acted: number; reasons: Map<string, number> }>();
  for (const s of signals) {
    const entry = byAction.get(s.action) ?? { total: 0, acted: 0, reasons: new Map<string, number>() };
    entry.total += 1;
    if (s.acted) entry.acted += 1;
    else {
      const reason = (s.reason ?? 'no reason given').split(':')[0]!;
      entry.reasons.set(reason, (entry.reasons.get(reason) ?? 0) + 1);
    }
    byAction.set(s.action, entry);
  }
  const rows = [...byAction].map(([action, { total, acted, reasons }]) => {
    const why = [...reasons]
      .sort((a, b) => b[1] - a[1])
      .map(([reason, count]) => `${count} × ${reason}`)
      .join('; ');
    return `<tr><td>${escapeHtml(action)}</td><td>${total}</td><td>${acted}</td><td>${total - acted}</td><td>${escapeHtml(why)}</td></tr>`;
  });
  return [
    '<table id="signals">',
    '<thead><tr><th>Action</th><th>Signals</th><th>Acted on</th><th>Not acted on</th><th>Why not</th></tr></thead>',
    `<tbody>\n${rows.join('\n')}\n</tbody>`,
    '</table>',
  ].join('\n');
}
