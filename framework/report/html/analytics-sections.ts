/**
 * The report's analysis sections: monthly returns, trade statistics (durations, best and worst trade, daily Sharpe),
 * the distribution of trade returns and the results by entry tag and by exit reason (see `report/analytics.ts`).
 * Every number is printed for people and carried exactly as `data-analytic="<name>" data-value="<String(value)>"`, so
 * a test can compare it with its own computation. Every string from the run (tags) is escaped.
 *
 * @module
 */
import type { GroupResult, RunAnalytics } from '../analytics';
import { formatDuration, formatMoney, formatNumber, formatPercent } from '../format';
import { escapeHtml } from './format';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/** A cell or value element carrying its exact value. */
function valued(tag: 'td' | 'dd', name: string, value: number | null, text: string, cls = ''): string {
  const raw = value === null ? 'null' : String(value);
  const klass = cls === '' ? '' : ` class="${cls}"`;
  return `<${tag}${klass} data-analytic="${escapeHtml(name)}" data-value="${escapeHtml(raw)}">${escapeHtml(text)}</${tag}>`;
}

function signClass(v: number | null): string {
  return v === null || v === 0 ? '' : v > 0 ? 'pos' : 'neg';
}

function duration(v: number | null): string {
  return v === null ? 'n/a' : formatDuration(v);
}

/**
 * Monthly returns as a year × month table (`data-analytic="month:YYYY-MM"`), with each year's compounded return
 * (`year:YYYY`, the product of its months' `1 + r`, minus one).
 */
export function monthlyReturnsHtml(analytics: RunAnalytics): string {
  if (analytics.monthlyReturns.length === 0) return '<p class="empty">No candles.</p>';
  const years = new Map<string, Map<number, number>>();
  for (const { month, return: r } of analytics.monthlyReturns) {
    const [year, m] = [month.slice(0, 4), Number(month.slice(5, 7))];
    const row = years.get(year) ?? new Map<number, number>();
    row.set(m, r);
    years.set(year, row);
  }
  const rows = [...years].map(([year, months]) => {
    const cells = MONTHS.map((_, i) => {
      const r = months.get(i + 1);
      const key = `${year}-${String(i + 1).padStart(2, '0')}`;
      return r === undefined ? '<td></td>' : valued('td', `month:${key}`, r, formatPercent(r), signClass(r));
    });
    const total = [...months.values()].reduce((p, r) => p * (1 + r), 1) - 1;
    return `<tr><th>${year}</th>${cells.join('')}${valued('td', `year:${year}`, total, formatPercent(total), signClass(total))}</tr>`;
  });
  return [
    '<table id="monthly-returns">',
    `<thead><tr><th>Year</th>${MONTHS.map((m) => `<th>${m}</th>`).join('')}<th>Year</th></tr></thead>`,
    `<tbody>\n${rows.join('\n')}\n</tbody>`,
    '</table>',
  ].join('\n');
}

/** Durations, best and worst trade and the daily Sharpe ratio, as a grid of labelled values. */
export function tradeStatsHtml(analytics: RunAnalytics, quote: string): string {
  const d = analytics.durations;
  const notable = (name: string, t: RunAnalytics['bestTrade']): string =>
    t === null
      ? valued('dd', name, null, 'n/a')
      : valued('dd', name, t.returnFraction, `#${t.index + 1}: ${formatPercent(t.returnFraction)} (${formatMoney(t.pnl, quote)})`);
  const items: [string, string][] = [
    ['Mean trade duration', valued('dd', 'duration:mean', d.mean, duration(d.mean))],
    ['Median trade duration', valued('dd', 'duration:median', d.median, duration(d.median))],
    ['Shortest trade', valued('dd', 'duration:min', d.min, duration(d.min))],
    ['Longest trade', valued('dd', 'duration:max', d.max, duration(d.max))],
    ['Mean duration, winners', valued('dd', 'duration:winners', d.meanWinner, duration(d.meanWinner))],
    ['Mean duration, losers', valued('dd', 'duration:losers', d.meanLoser, duration(d.meanLoser))],
    ['Best trade', notable('trade:best', analytics.bestTrade)],
    ['Worst trade', notable('trade:worst', analytics.worstTrade)],
    ['Sharpe of daily returns', valued('dd', 'sharpe:daily', analytics.dailySharpe, formatNumber(analytics.dailySharpe, 2))],
  ];
  const cells = items.map(([label, dd]) => `<div class="metric"><dt>${escapeHtml(label)}</dt>${dd}</div>`);
  return `<dl class="metrics" id="trade-stats">\n${cells.join('\n')}\n</dl>`;
}

/** The distribution of trade returns as horizontal bars, one per bin (`bin:<i>` holds the bin's trade count). */
export function returnDistributionHtml(analytics: RunAnalytics): string {
  const bins = analytics.returnDistribution;
  if (bins.length === 0) return '<p class="empty">No trades.</p>';
  const most = Math.max(...bins.map((b) => b.trades));
  const rows = bins.map((b, i) => {
    const width = most === 0 ? 0 : (100 * b.trades) / most;
    const cls = b.to <= 0 ? 'neg' : b.from >= 0 ? 'pos' : '';
    return (
      `<tr><th>${escapeHtml(formatPercent(b.from))} … ${escapeHtml(formatPercent(b.to))}</th>` +
      valued('td', `bin:${i}`, b.trades, String(b.trades)) +
      `<td class="bar-cell"><span class="bar ${cls}" style="width:${width.toFixed(1)}%"></span></td></tr>`
    );
  });
  return [
    '<table id="return-distribution">',
    '<thead><tr><th>Net return of the trade</th><th>Trades</th><th></th></tr></thead>',
    `<tbody>\n${rows.join('\n')}\n</tbody>`,
    '</table>',
  ].join('\n');
}

/** Results by entry tag or by exit reason (`<prefix>:<key>:<field>`). */
export function groupTableHtml(id: string, heading: string, groups: readonly GroupResult[], quote: string): string {
  if (groups.length === 0) return '<p class="empty">No trades.</p>';
  const rows = groups.map((g) => {
    const name = (field: string): string => `${id}:${g.key}:${field}`;
    return (
      `<tr><td>${escapeHtml(g.key)}</td>` +
      valued('td', name('trades'), g.trades, String(g.trades)) +
      valued('td', name('winRate'), g.winRate, formatPercent(g.winRate)) +
      valued('td', name('pnl'), g.pnl, formatMoney(g.pnl, quote), signClass(g.pnl)) +
      valued('td', name('meanReturn'), g.meanReturn, formatPercent(g.meanReturn), signClass(g.meanReturn)) +
      valued('td', name('meanDuration'), g.meanDuration, formatDuration(g.meanDuration)) +
      '</tr>'
    );
  });
  return [
    `<table id="${id}">`,
    `<thead><tr><th>${escapeHtml(heading)}</th><th>Trades</th><th>Win rate</th><th>PnL</th><th>Mean return</th><th>Mean duration</th></tr></thead>`,
    `<tbody>\n${rows.join('\n')}\n</tbody>`,
    '</table>',
  ].join('\n');
}
