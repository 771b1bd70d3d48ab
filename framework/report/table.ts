import Table from 'cli-table3';
import { describeSubscription } from '../core/subscription';
import { annualisationWarning } from './metrics';
import type { RunSummary } from './run-summary';
import { timeframeGrid } from '../core/timeframe';
import { formatDuration, formatMinute, formatNumber, formatPercent } from './format';

/**
 * Formats a run summary as a plain-text, two-column table (cli-table3, no colours, values right-aligned) for the
 * terminal: the run, the market and period (open times of the first and last candle, UTC), the broker settings, then every metric. Fractions are shown as percents with 2 decimals,
 * money with 2 decimals and the quote currency of the symbol (`USDT` for `BTC/USDT`), durations as days/hours/minutes,
 * ratios with 2 decimals; an undefined value (`null`) as `n/a` and an infinite one as `∞`. When the metrics start after
 * the warm-up, a row says from when; when they cover less than 30 days, a warning line follows the table
 * ({@link annualisationWarning}).
 *
 * @returns the table, lines separated by `\n`, without a trailing newline.
 */
export function formatReport(summary: RunSummary): string {
  const quote = summary.subscription.symbol.split('/')[1] ?? 'quote';
  const m = summary.metrics;
  const b = summary.broker;
  const money = (v: number | null): string => (v === null ? 'n/a' : `${formatNumber(v, 2)} ${quote}`);
  const params = Object.entries(summary.strategy.parameters).map(([k, v]) => `${k}=${String(v)}`);
  const stake = 'fraction' in b.stake ? `${formatPercent(b.stake.fraction)} of equity` : money(b.stake.quote);
  const rows: [string, string][] = [
    ['Run', `${summary.runId} (${summary.mode})`],
    ['Strategy', params.length === 0 ? summary.strategy.name : `${summary.strategy.name} (${params.join(', ')})`],
    ['Market', describeSubscription(summary.subscription)],
    ['Period', `${formatMinute(summary.firstCandle)} → ${formatMinute(summary.lastCandle)} UTC, ${summary.candles} candles`],
    ...metricsSpan(summary),
    ['Broker', `fee ${formatPercent(b.feeRate, 3)}, slippage ${b.slippageBps} bps, stake ${stake}`],
    ['Start equity', money(m.startEquity)],
    ['End equity', money(m.endEquity)],
    ['Total return', formatPercent(m.totalReturn)],
    ['Buy & hold return', formatPercent(m.buyAndHoldReturn)],
    ['CAGR', formatPercent(m.cagr)],
    ['Sharpe', formatNumber(m.sharpe, 2)],
    ['Sortino', formatNumber(m.sortino, 2)],
    ['Calmar', formatNumber(m.calmar, 2)],
    ['Max drawdown', formatPercent(m.maxDrawdown)],
    ['Max drawdown duration', formatDuration(m.maxDrawdownDuration)],
    ['Trades', String(m.trades)],
    ['Win rate', formatPercent(m.winRate)],
    ['Profit factor', formatNumber(m.profitFactor, 2)],
    ['Expectancy', money(m.expectancy)],
    ['Expectancy per trade', formatPercent(m.expectancyFraction)],
    ['Exposure', formatPercent(m.exposure)],
  ];
  const table = new Table({
    head: ['Metric', 'Value'],
    colAligns: ['left', 'right'],
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    style: { head: [], border: [] },
  });
  table.push(...rows);
  const from = summary.metricsFrom ?? summary.firstCandle;
  const grid = timeframeGrid(summary.timeframe);
  const warning = annualisationWarning(grid.nextOpen(summary.lastCandle) - from, Math.round((summary.lastCandle - from) / grid.nominalMs) + 1);
  return warning === null ? table.toString() : `${table.toString()}\nWarning: ${warning}`;
}

/** The "Metrics from" row when the metrics start after the run's first candle (a backtest's warm-up). */
function metricsSpan(summary: RunSummary): [string, string][] {
  const from = summary.metricsFrom;
  return from === undefined || from === summary.firstCandle ? [] : [['Metrics from', `${formatMinute(from)} UTC (after the warm-up)`]];
}
