import type { BaseStrategy } from './base-strategy';

/**
 * A new instance of the strategy's class with the same parameter values (overrides included): what a run starts
 * with, so that state a strategy keeps in its own fields between candles starts afresh, as in a real run. The class
 * must construct with no arguments, as the loader requires.
 */
export function freshStrategy(strategy: BaseStrategy): BaseStrategy {
  const StrategyClass = strategy.constructor as new () => BaseStrategy;
  const instance = new StrategyClass();
  Object.assign(instance.params, strategy.params);
  return instance;
}
