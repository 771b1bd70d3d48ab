import { FrameworkError } from '../core/errors';
import type { PositionSize } from '../strategy/signal';
import type { StrategyParameters } from '../strategy/base-strategy';
import { hashParameters } from '../strategy/parameters';

/**
 * Settings of a {@link "broker/paper-broker"!PaperBroker | PaperBroker}.
 *
 * - `initialCash`: starting cash in quote currency (USDT for `BTC/USDT`), > 0.
 * - `feeRate`: taker fee as a fraction of each fill's notional, in [0, 1): `0.001` = 0.1% (Binance spot base rate).
 * - `slippageBps`: adverse price slippage of market fills in basis points, in [0, 10 000): `5` = 0.05%.
 * - `stake`: default position size of an entry whose signal gives no `size`: a fraction of current equity in (0, 1]
 *   or a fixed notional in quote currency (> 0).
 * - `amountStep`: optional lot size in base currency (> 0, e.g. `0.00001` for Binance BTC/USDT): every order
 *   quantity is rounded down to a whole number of steps; unset, quantities are not rounded.
 * - `strategyKey`: optional identity of the strategy in its orders' client order ids (see
 *   {@link "broker/orders"!clientOrderId | clientOrderId}), e.g. `<strategy name>:<parameters hash>`; default
 *   {@link DEFAULT_STRATEGY_KEY}.
 */
export interface BrokerConfig {
  readonly initialCash: number;
  readonly feeRate: number;
  readonly slippageBps: number;
  readonly stake: PositionSize;
  readonly amountStep?: number;
  readonly strategyKey?: string;
}

/** The strategy key of client order ids when the configuration gives none. */
export const DEFAULT_STRATEGY_KEY = 'paper';

/** Defaults: 10 000 quote currency, 0.1% taker fee, no slippage, all equity per entry. */
export const DEFAULT_BROKER_CONFIG: BrokerConfig = Object.freeze({
  initialCash: 10_000,
  feeRate: 0.001,
  slippageBps: 0,
  stake: Object.freeze({ fraction: 1 }),
});

/**
 * Completes a partial broker configuration with {@link DEFAULT_BROKER_CONFIG} and validates it.
 *
 * @param partial - fields to override; omitted (or `undefined`) ones take the defaults.
 * @returns a complete, validated {@link BrokerConfig}.
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} naming the bad field and its value when a field is out
 *   of range or not finite.
 */
export function brokerConfig(partial: Partial<BrokerConfig> = {}): BrokerConfig {
  const given = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const config: BrokerConfig = { ...DEFAULT_BROKER_CONFIG, ...given };
  check('initialCash', config.initialCash, (v) => v > 0, 'a finite number > 0 (quote currency)');
  check('feeRate', config.feeRate, (v) => v >= 0 && v < 1, 'a fraction in [0, 1), e.g. 0.001 for 0.1%');
  check('slippageBps', config.slippageBps, (v) => v >= 0 && v < 10_000, 'basis points in [0, 10000), e.g. 5');
  if (config.amountStep !== undefined) {
    check('amountStep', config.amountStep, (v) => v > 0, 'a lot size > 0 in base currency, e.g. 0.00001');
  }
  if (config.strategyKey !== undefined && (typeof config.strategyKey !== 'string' || config.strategyKey === '')) {
    throw new FrameworkError(`invalid broker config strategyKey ${JSON.stringify(config.strategyKey)}: expected a non-empty string, e.g. "macd:1a2b3c4d"`);
  }
  const stake: unknown = config.stake;
  if (typeof stake === 'object' && stake !== null && 'fraction' in stake && !('quote' in stake)) {
    check('stake.fraction', stake.fraction, (v) => v > 0 && v <= 1, 'a fraction of equity in (0, 1]');
  } else if (typeof stake === 'object' && stake !== null && 'quote' in stake && !('fraction' in stake)) {
    check('stake.quote', stake.quote, (v) => v > 0, 'a finite notional > 0 in quote currency');
  } else {
    throw new FrameworkError(
      `invalid broker config stake ${JSON.stringify(stake)}: expected { fraction } or { quote }, e.g. { fraction: 1 }`,
    );
  }
  return config;
}

function check(field: string, value: unknown, ok: (v: number) => boolean, expected: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) {
    const shown = typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
    throw new FrameworkError(`invalid broker config ${field} ${shown}: expected ${expected}`);
  }
}

/**
 * The default `strategyKey` of a strategy's orders: `<name>:<parameters hash>` (the hash of
 * {@link "strategy/parameters"!hashParameters | hashParameters}), so that the same strategy with the same parameters
 * makes the same client order ids in a backtest, a live run and its restart.
 */
export function strategyKeyOf(strategy: { readonly name: string; readonly params: StrategyParameters }): string {
  return `${strategy.name}:${hashParameters({ ...strategy.params })}`;
}
