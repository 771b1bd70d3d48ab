import Table from 'cli-table3';
import { describeSubscription } from '../core/subscription';
import { isoUtc } from '../core/time';
import type { RunSummary } from './run-summary';

/**
 * Formats a run summary as a plain-text, two-column table (cli-table3, no colours, values right-aligned) for the
 * terminal: the run, the market and period (open times of the first and last candle, UTC), the broker settings, then every metric. Fractions are shown as percents with 2 decimals,
 * money with 2 decimals and the quote currency of the symbol (`USDT` for `BTC/USDT`), durations as days/hours/minutes,
 * ratios with 2 decimals; an undefined value (`null`) as `n/a` and an infinite one as `∞`.
 *
 * @returns the table, lines separated by `\n`, without a trailing newline.
 */
export function formatReport(summary: RunSummary): string {
  const quote = summary.subscription.symbol.split('/')[1] ?? 'quote';
  const m = summary.metrics;
  const b = summary.broker;
  const money = (v: number | null): string => (v === null ? 'n/a' : `${number(v, 2)} ${quote}`);
  const params = Object.entries(summary.strategy.parameters).map(([k, v]) => `${k}=${String(v)}`);
  const stake = 'fraction' in b.stake ? `${percent(b.stake.fraction)} of equity` : money(b.stake.quote);
  const rows: [string, string][] = [
    ['Run', `${summary.runId} (${summary.mode})`],
    ['Strategy', params.length === 0 ? summary.strategy.name : `${summary.strategy.name} (${params.join(', ')})`],
    ['Market', describeSubscription(summary.subscription)],
    ['Period', `${minute(summary.firstCandle)} → ${minute(summary.lastCandle)} UTC, ${summary.candles} candles`],
    ['Broker', `fee ${percent(b.feeRate, 3)}, slippage ${b.slippageBps} bps, stake ${stake}`],
    ['Start equity', money(m.startEquity)],
    ['End equity', money(m.endEquity)],
    ['Total return', percent(m.totalReturn)],
    ['Buy & hold return', percent(m.buyAndHoldReturn)],
    ['CAGR', percent(m.cagr)],
    ['Sharpe', number(m.sharpe, 2)],
    ['Sortino', number(m.sortino, 2)],
    ['Calmar', number(m.calmar, 2)],
    ['Max drawdown', percent(m.maxDrawdown)],
    ['Max drawdown duration', duration(m.maxDrawdownDuration)],
    ['Trades', String(m.trades)],
    ['Win rate', percent(m.winRate)],
    ['Profit factor', number(m.profitFactor, 2)],
    ['Expectancy', money(m.expectancy)],
    ['Expectancy per trade', percent(m.expectancyPct)],
    ['Exposure', percent(m.exposure)],
  ];
  const table = new Table({
    head: ['Metric', 'Value'],
    colAligns: ['left', 'right'],
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    style: { head: [], border: [] },
  });
  table.push(...rows);
  return table.toString();
}

/** `2021-01-02 03:04`: UTC epoch ms to the minute. */
function minute(ms: number): string {
  return isoUtc(ms).slice(0, 16).replace('T', ' ');
}

function number(v: number | null, digits: number): string {
  if (v === null || Number.isNaN(v)) return 'n/a';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '-∞';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function percent(v: number | null, digits = 2): string {
  return v === null ? 'n/a' : `${number(v * 100, digits)}%`;
}

function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const min = minutes % 60;
  const parts = [d > 0 ? `${d}d` : '', h > 0 ? `${h}h` : '', min > 0 ? `${min}m` : ''].filter((p) => p !== '');
  return parts.length === 0 ? '0m' : parts.join(' ');
}
