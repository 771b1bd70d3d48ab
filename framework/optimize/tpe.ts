/**
 * The Tree-structured Parzen Estimator (TPE), univariate, in the unit cube.
 *
 * J. Bergstra, R. Bardenet, Y. Bengio and B. Kégl, "Algorithms for Hyper-Parameter Optimization", NeurIPS 2011, §4;
 * with the defaults of Optuna's `TPESampler` (optuna/samplers/_tpe): 10 random start-up trials, the best
 * `γ(n) = min(⌈0.1 n⌉, 25)` trials as the "good" set, a prior component N(0.5, 1) of weight 1 in each Parzen estimator,
 * 24 candidates drawn from l(x), the one maximising l(x) / g(x) kept; kernel bandwidths as in hyperopt's
 * `adaptive_parzen_normal` (the larger distance to a neighbour, clipped to [1 / min(100, n + 1), 1]). Each coordinate is
 * sampled independently (hyperopt's and Optuna's default). Integer and choice parameters are handled as cells of their
 * coordinate, a simplification of Optuna's discrete handling.
 *
 * @module
 */
import type { Rng } from '../core/rng';
import { normalCdf } from './overfitting';

/** A finished trial as a sampler sees it: its point in the unit cube and its score (null: infeasible, worst). */
export interface Observation {
  readonly point: readonly number[];
  readonly score: number | null;
}

/** A point drawn uniformly from the unit cube. */
export function uniformPoint(rng: Rng, dimensions: number): number[] {
  return Array.from({ length: dimensions }, () => rng());
}

/** Random trials before the model is used. */
export const TPE_STARTUP_TRIALS = 10;
const CANDIDATES = 24;
const PRIOR = { mu: 0.5, sigma: 1, weight: 1 };

interface Parzen {
  readonly mu: readonly number[];
  readonly sigma: readonly number[];
  readonly weight: readonly number[];
}

/**
 * The TPE point for a trial given the finished trials before its batch (random while fewer than
 * {@link TPE_STARTUP_TRIALS}). Trials scored null count as the worst; ties keep the earlier trial first.
 */
export function tpePoint(rng: Rng, dimensions: number, history: readonly Observation[]): number[] {
  if (history.length < TPE_STARTUP_TRIALS) return uniformPoint(rng, dimensions);
  const ranked = history
    .map((o, order) => ({ o, order }))
    .sort((a, b) => (b.o.score ?? -Infinity) - (a.o.score ?? -Infinity) || a.order - b.order);
  const good = Math.min(Math.ceil(0.1 * history.length), 25);
  const below = ranked.slice(0, good).map((r) => r.o.point);
  const above = ranked.slice(good).map((r) => r.o.point);
  return Array.from({ length: dimensions }, (_, d) => {
    const l = parzen(below.map((p) => p[d]!));
    const g = parzen(above.map((p) => p[d]!));
    let best = Number.NaN;
    let bestRatio = -Infinity;
    for (let c = 0; c < CANDIDATES; c++) {
      const x = sample(l, rng);
      const ratio = logDensity(l, x) - logDensity(g, x);
      if (ratio > bestRatio) {
        bestRatio = ratio;
        best = x;
      }
    }
    return best;
  });
}

function parzen(points: readonly number[]): Parzen {
  const mus = [...points, PRIOR.mu].sort((a, b) => a - b);
  const minSigma = 1 / Math.min(100, points.length + 1);
  const sigma = mus.map((mu, i) => {
    const left = mu - (i > 0 ? mus[i - 1]! : 0);
    const right = (i < mus.length - 1 ? mus[i + 1]! : 1) - mu;
    return Math.min(1, Math.max(minSigma, left, right));
  });
  const priorAt = mus.indexOf(PRIOR.mu);
  sigma[priorAt] = PRIOR.sigma;
  const weight = mus.map((_, i) => (i === priorAt ? PRIOR.weight : 1));
  const total = weight.reduce((a, b) => a + b, 0);
  return { mu: mus, sigma, weight: weight.map((w) => w / total) };
}

/** A draw from the mixture of normals truncated to [0, 1) (rejection, then clamping after 100 tries). */
function sample(p: Parzen, rng: Rng): number {
  let u = rng();
  let k = 0;
  while (k < p.weight.length - 1 && u >= p.weight[k]!) u -= p.weight[k++]!;
  for (let attempt = 0; attempt < 100; attempt++) {
    const x = p.mu[k]! + p.sigma[k]! * gaussian(rng);
    if (x >= 0 && x < 1) return x;
  }
  return Math.min(Math.max(p.mu[k]!, 0), 1 - Number.EPSILON);
}

/** Box–Muller: a standard normal draw from two uniform ones. */
function gaussian(rng: Rng): number {
  const u = 1 - rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

function logDensity(p: Parzen, x: number): number {
  let density = 0;
  for (let k = 0; k < p.mu.length; k++) {
    const s = p.sigma[k]!;
    const z = (x - p.mu[k]!) / s;
    const mass = normalCdf((1 - p.mu[k]!) / s) - normalCdf(-p.mu[k]! / s);
    density += (p.weight[k]! * Math.exp(-0.5 * z * z)) / (s * Math.sqrt(2 * Math.PI) * Math.max(mass, 1e-12));
  }
  return Math.log(Math.max(density, 1e-300));
}
