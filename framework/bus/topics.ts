/**
 * The message bus's topic names (AMQP routing keys), as the system this project comes from names them, and AMQP's
 * topic matching rules.
 *
 * - market data: `market_data.<exchange>.<base>_<quote>.<timeframe>`, e.g. `market_data.binance.btc_usdt.15m`
 *   (exchange and symbol in lower case; the timeframe as written, since `1m` and `1M` differ);
 * - commands: `commands.execute_trade`;
 * - events: `events.trade_executed`, `events.trade_failed`, `events.position_mismatch`; addressed to one strategy of
 *   a node with its id as the last word (`events.trade_executed.macd-fast`, see {@link strategyEventTopic});
 * - `system.<name>`: alerts, worker lifecycle, snapshots, admin (`system.alert`, `system.worker_started`,
 *   `system.snapshot`, `system.admin.request`, `system.admin.reply.<request id>`, …).
 *
 * @module
 */
import type { Subscription } from '../core/subscription';

/** The fixed topics. */
export const TOPICS = {
  executeTrade: 'commands.execute_trade',
  tradeExecuted: 'events.trade_executed',
  tradeFailed: 'events.trade_failed',
  positionMismatch: 'events.position_mismatch',
} as const;

/**
 * The market-data topic of a subscription: `market_data.binance.btc_usdt.15m` for `binance BTC/USDT 15m`.
 *
 * @throws RangeError when the symbol is not `BASE/QUOTE` or a part holds a `.`, `*`, `#` or whitespace (they would
 *   change the routing key's words).
 */
export function marketDataTopic(s: Subscription): string {
  const [base, quote, ...rest] = s.symbol.split('/');
  if (base === undefined || quote === undefined || rest.length > 0 || base === '' || quote === '') {
    throw new RangeError(`market data topic: symbol "${s.symbol}" is not BASE/QUOTE (e.g. BTC/USDT)`);
  }
  const words = [s.exchange.toLowerCase(), `${base}_${quote}`.toLowerCase(), s.timeframe];
  for (const word of words) {
    if (word === '' || /[.*#\s]/.test(word)) {
      throw new RangeError(`market data topic: "${word}" of ${s.exchange} ${s.symbol} ${s.timeframe} cannot be a routing-key word`);
    }
  }
  return `market_data.${words.join('.')}`;
}

/**
 * An event addressed to one strategy of a node: `events.<type>.<strategy id>` (`events.trade_failed.macd-fast`), so
 * that a worker binds `events.*.<id>` and gets its own replies only, while `events.trade_failed.#` still sees every
 * strategy's.
 *
 * @throws RangeError when the id or the type holds a `.`, `*`, `#` or whitespace.
 */
export function strategyEventTopic(type: string, strategyId: string): string {
  for (const word of [type, strategyId]) {
    if (word === '' || /[.*#\s]/.test(word)) throw new RangeError(`event topic: "${word}" cannot be a routing-key word`);
  }
  return `events.${type}.${strategyId}`;
}

/** `system.<name>`. */
export function systemTopic(name: string): string {
  return `system.${name}`;
}

/**
 * Whether `topic` matches the binding `pattern` under AMQP topic-exchange rules: words separated by `.`; `*` matches
 * exactly one word, `#` zero or more words (RabbitMQ, "Topic exchange", https://www.rabbitmq.com/tutorials/amqp-concepts).
 */
export function topicMatches(pattern: string, topic: string): boolean {
  return matchWords(pattern.split('.'), 0, topic.split('.'), 0);
}

function matchWords(p: readonly string[], i: number, t: readonly string[], j: number): boolean {
  if (i === p.length) return j === t.length;
  const word = p[i]!;
  if (word === '#') {
    for (let k = j; k <= t.length; k++) if (matchWords(p, i + 1, t, k)) return true;
    return false;
  }
  if (j === t.length) return false;
  return (word === '*' || word === t[j]) && matchWords(p, i + 1, t, j + 1);
}
