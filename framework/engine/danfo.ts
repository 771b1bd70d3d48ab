/**
 * Loading danfojs-node without paying for the dependencies a candle DataFrame never uses.
 *
 * danfojs-node 1.1.2 requires `mathjs` (for `std`, `var`, `median`, `mode` of Series, DataFrames and groupby) and `xlsx`
 * (for `readExcel`/`toExcel`) when it loads. Executing them is most of danfo's load time: on the 2-core machine
 * `require('danfojs-node')` takes 630 ms with them and 170 ms without, and under tsx (which inspects every one of
 * mathjs's ~950 files) the gap is larger, in every backtest and live start. danfo reads them only inside those methods
 * (`mathjs_1.std(…)`, `xlsx_1.read(…)` at call time, never at load), so {@link loadDanfo} puts a stand-in for each in
 * Node's CommonJS module cache first: an object that requires the real module on first access of any property and
 * forwards to it from then on. A strategy that calls `df.std()` loads mathjs then, once; one that imports mathjs itself
 * before danfo loads gets the real module (a module already cached is left alone).
 *
 * @module
 */
import { createRequire, Module } from 'node:module';

type Danfo = typeof import('danfojs-node');

/** danfojs-node's dependencies loaded on first use instead of with danfo (see the module comment). */
export const DEFERRED_DANFO_DEPENDENCIES = ['mathjs', 'xlsx'] as const;

let danfo: Promise<Danfo> | undefined;

/**
 * danfojs-node, imported once on first use, with its {@link DEFERRED_DANFO_DEPENDENCIES} loaded only when a danfo method
 * that needs them runs.
 */
export function loadDanfo(): Promise<Danfo> {
  danfo ??= (async () => {
    deferDependencies();
    return import('danfojs-node');
  })();
  return danfo;
}

/** Caches a stand-in for each deferred dependency that is not loaded yet, resolved as danfo resolves it. */
function deferDependencies(): void {
  const danfoRequire = createRequire(createRequire(import.meta.url).resolve('danfojs-node'));
  for (const name of DEFERRED_DANFO_DEPENDENCIES) {
    const file = danfoRequire.resolve(name);
    if (danfoRequire.cache[file] !== undefined) continue;
    const standIn = new Module(file);
    standIn.filename = file;
    standIn.loaded = true;
    standIn.exports = onFirstUse(() => {
      if (danfoRequire.cache[file] === standIn) delete danfoRequire.cache[file];
      return danfoRequire(name) as object;
    });
    danfoRequire.cache[file] = standIn;
  }
}

/** An object that forwards every property read and reflection to `load()`'s result, calling `load` once, when first needed. */
function onFirstUse(load: () => object): object {
  let real: object | undefined;
  const target = (): object => (real ??= load());
  return new Proxy(
    {},
    {
      get: (_, key) => Reflect.get(target(), key),
      has: (_, key) => Reflect.has(target(), key),
      ownKeys: () => Reflect.ownKeys(target()),
      getOwnPropertyDescriptor: (_, key) => {
        const descriptor = Reflect.getOwnPropertyDescriptor(target(), key);
        return descriptor === undefined ? undefined : { ...descriptor, configurable: true };
      },
    },
  );
}
