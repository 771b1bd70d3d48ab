/**
 * What an optimisation maximises: a metric of the trial's run, or the strategy's own function, subject to constraints.
 *
 * @module
 */
import { FrameworkError } from '../core/errors';
import type { Metrics } from '../report/metrics';

/** The objectives `--objective` accepts: metric names of {@link Metrics}, or `strategy` for the strategy's function. */
export const OBJECTIVES = ['sharpe', 'sortino', 'calmar', 'total_return', 'profit_factor', 'strategy'] as const;

/** One of {@link OBJECTIVES}. */
export type ObjectiveName = (typeof OBJECTIVES)[number];

/** Constraints a trial must meet to be chosen; a trial that misses one scores null. */
export interface Constraints {
  /** At least this many closed trades (`--min-trades`); default 0. */
  readonly minTrades: number;
}

/** A strategy-defined objective (`BaseStrategy.objective`). */
export type StrategyObjective = (metrics: Readonly<Record<string, number | null>>) => number | null;

/**
 * Checks an objective name from the command line.
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} naming the allowed values.
 */
export function parseObjective(text: string): ObjectiveName {
  const name = text.replace(/-/g, '_');
  if (!(OBJECTIVES as readonly string[]).includes(name)) {
    throw new FrameworkError(`--objective ${text}: expected one of ${OBJECTIVES.join(', ')}`);
  }
  return name as ObjectiveName;
}

/**
 * The score of a trial, to maximise: the chosen metric (`total_return` is `totalReturn`, `profit_factor` is
 * `profitFactor`, an infinite profit factor counts as the largest finite number), or the strategy's function of the
 * metrics; null (never chosen) when the metric is undefined for the run, not finite, or a constraint is missed.
 */
export function score(
  metrics: Metrics,
  objective: ObjectiveName,
  constraints: Constraints,
  strategyObjective?: StrategyObjective,
): number | null {
  if (metrics.trades < constraints.minTrades) return null;
  let value: number | null;
  switch (objective) {
    case 'sharpe':
      value = metrics.sharpe;
      break;
    case 'sortino':
      value = metrics.sortino;
      break;
    case 'calmar':
      value = metrics.calmar;
      break;
    case 'total_return':
      value = metrics.totalReturn;
      break;
    case 'profit_factor':
      value = metrics.profitFactor === Number.POSITIVE_INFINITY ? Number.MAX_VALUE : metrics.profitFactor;
      break;
    case 'strategy':
      value = strategyObjective?.({ ...metrics }) ?? null;
      break;
  }
  return value !== null && Number.isFinite(value) ? value : null;
}
