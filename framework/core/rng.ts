/**
 * A seeded pseudo-random number generator returning floats in [0, 1).
 *
 * Algorithm: Mulberry32 (Tommy Ettinger, public domain), a 32-bit state generator; streams are derived from a seed and
 * a name with FNV-1a so that each stream (a simulator fault type, an optimisation sampler) draws from its own independent, reproducible stream.
 *
 * @see https://gist.github.com/tommyettinger/46a874533244883189143505d203312c
 */
export type Rng = () => number;

/** A Mulberry32 generator for `seed` (any integer; only its low 32 bits matter). */
export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A generator for the named stream of `seed`: `mulberry32(seed XOR fnv1a(name))`. */
export function namedRng(seed: number, name: string): Rng {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i += 1) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return mulberry32((seed ^ hash) >>> 0);
}
