/**
 * Samplers: where in the search space the next trial goes. Every sampler works in the unit cube (one coordinate in
 * [0, 1) per searched parameter, mapped onto its range by `valueAt` of `strategy/parameters`) and is deterministic:
 * trial `index` of a window depends only on the seed, the window, the index and the results of the batches before
 * its own, so that trials run in parallel in any order, or resumed after a crash, are the same trials.
 *
 * @module
 */
import { FrameworkError } from '../core/errors';
import { gridLevels, type ParameterRange } from '../strategy/parameters';
import { namedRng, type Rng } from '../core/rng';
import { tpePoint, uniformPoint, type Observation } from './tpe';

export type { Observation } from './tpe';

/** The samplers `--sampler` accepts. */
export const SAMPLERS = ['tpe', 'halton', 'grid', 'random'] as const;

/** One of {@link SAMPLERS}. */
export type SamplerName = (typeof SAMPLERS)[number];

/** Proposes trial points for one window. */
export interface Sampler {
  /** How many trials the window runs (a grid smaller than `--trials` runs its points once each). */
  readonly trials: number;
  /**
   * The point of trial `index`.
   *
   * @param history - every finished trial of the window with an index below the first of `index`'s batch, in index
   *   order (ignored by grid, Halton and random).
   */
  point(index: number, history: readonly Observation[]): readonly number[];
}

/** How a sampler is set up. */
export interface SamplerOptions {
  readonly name: SamplerName;
  readonly ranges: readonly ParameterRange[];
  readonly trials: number;
  readonly seed: number;
  /** The walk-forward window (each window's search draws its own streams). */
  readonly window: number;
  /** Cells per float parameter without a step, for the grid. */
  readonly gridPoints: number;
}

/**
 * The sampler `options.name` asks for.
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} when there is nothing to search or `trials` is not a whole number ≥ 1.
 */
export function createSampler(options: SamplerOptions): Sampler {
  const { ranges, seed, window } = options;
  if (ranges.length === 0) throw new FrameworkError('the search space is empty: declare `space` in the strategy or pass --space name=low..high');
  if (!Number.isInteger(options.trials) || options.trials < 1) throw new FrameworkError(`--trials ${options.trials}: expected a whole number ≥ 1`);
  const rngOf = (index: number): Rng => namedRng(seed, `${options.name}/${window}/${index}`);
  switch (options.name) {
    case 'grid':
      return gridSampler(ranges.map((r) => gridLevels(r, options.gridPoints)), options.trials);
    case 'halton': {
      const shiftRng = namedRng(seed, `halton/${window}`);
      const shift = ranges.map(() => shiftRng());
      return { trials: options.trials, point: (index) => haltonPoint(index + 1, ranges.length).map((u, d) => (u + shift[d]!) % 1) };
    }
    case 'random':
      return { trials: options.trials, point: (index) => uniformPoint(rngOf(index), ranges.length) };
    case 'tpe':
      return { trials: options.trials, point: (index, history) => tpePoint(rngOf(index), ranges.length, history) };
  }
}

/**
 * The full grid (every combination of `levels[d]` cells per coordinate, at the cells' centres), or, when it has more
 * points than `trials`, `trials` of its points evenly spaced in enumeration order.
 */
function gridSampler(levels: readonly number[], trials: number): Sampler {
  const size = levels.reduce((a, b) => a * b, 1);
  const count = Math.min(size, trials);
  return {
    trials: count,
    point: (index) => {
      let rest = Math.floor((index * size) / count);
      return levels.map((m) => {
        const k = rest % m;
        rest = Math.floor(rest / m);
        return (k + 0.5) / m;
      });
    },
  };
}

const PRIMES = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97];

/**
 * Point `n` (≥ 1) of the Halton sequence: coordinate d is the radical inverse of n in the d-th prime base.
 * J. H. Halton, "On the efficiency of certain quasi-random sequences of points in evaluating multi-dimensional
 * integrals", Numerische Mathematik 2, 1960. {@link createSampler} adds a seeded random shift modulo 1 (R. Cranley and
 * T. N. L. Patterson, "Randomization of number theoretic methods for multiple integration", SIAM J. Numer. Anal.
 * 13(6), 1976), so that the seed chooses among equally well spread sequences.
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} beyond 25 dimensions.
 */
export function haltonPoint(n: number, dimensions: number): number[] {
  if (dimensions > PRIMES.length) throw new FrameworkError(`the Halton sampler handles at most ${PRIMES.length} parameters`);
  return PRIMES.slice(0, dimensions).map((base) => {
    let f = 1;
    let r = 0;
    for (let i = n; i > 0; i = Math.floor(i / base)) {
      f /= base;
      r += f * (i % base);
    }
    return r;
  });
}
