/**
 * Loading danfojs-node without paying for the dependencies a candle DataFrame never uses.
 *
 * danfojs-node 1.1.2 requires `mathjs` (for `std`, `var`, `median`, `mode` of Series, DataFrames and groupby), `xlsx`
 * (for `readExcel`/`toExcel`) and TensorFlow.js (`@tensorflow/tfjs`, for `.tensor`, `sample`, the scalers and encoders)
 * when it loads. Executing them is most of danfo's load time and memory: on the 2-core machine
 * `require('danfojs-node')` takes 630 ms with mathjs and xlsx and 170 ms without, and under tsx (which inspects every
 * one of mathjs's ~950 files) the gap is larger; TensorFlow.js then costs another 200 ms and 73 MB of RSS, in every
 * backtest and live start. danfo reads them only inside those methods (`mathjs_1.std(…)`, `xlsx_1.read(…)`,
 * `tf.tensor(…)` at call time, never at load), so {@link loadDanfo} puts a stand-in for each in Node's CommonJS module
 * cache first (framework/core/deferred-require.ts): an object that requires the real module on first access of a
 * property and forwards to it from then on. One property is answered without loading: every DataFrame and Series
 * constructor asks `data instanceof tf.Tensor`, and before TensorFlow.js is loaded no tensor can exist, so the
 * stand-in's `Tensor` is an instance of nothing until then. A strategy that calls `df.std()` loads mathjs then, once;
 * one that imports one of them itself before danfo loads gets the real module (a module already cached is left alone).
 *
 * The same holds for the libraries of danfo's printing and file and URL readers, which a candle DataFrame never uses
 * either: `table` (`toString`, `print`), `papaparse` and `request` (`readCSV`), `stream-json` and `node-fetch`
 * (`readJSON`, `readExcel` from a URL). `request` alone loads ~200 files (ajv, sshpk, tough-cookie with psl's public
 * suffix list): under tsx danfo took 600 ms of CPU to load with them and 110 ms without. danfo wraps three of them in
 * TypeScript's `__importDefault`, which reads `__esModule` at load: their stand-ins answer it as the real module does
 * (`true` for node-fetch, absent for request and papaparse) without loading it.
 *
 * @module
 */
import { createRequire } from 'node:module';
import { deferRequire } from '../core/deferred-require';

type Danfo = typeof import('danfojs-node');

/** danfojs-node's dependencies loaded on first use instead of with danfo (see the module comment). */
export const DEFERRED_DANFO_DEPENDENCIES = [
  'mathjs',
  'xlsx',
  '@tensorflow/tfjs',
  'table',
  'request',
  'papaparse',
  'node-fetch',
  'stream-json',
  'stream-json/streamers/StreamArray',
] as const;

/**
 * What a stand-in answers without loading its module: TensorFlow.js's `Tensor` for `instanceof`, of which nothing is an
 * instance while TensorFlow.js is not loaded (a tensor is only made by it); `__esModule` as the real module has it, for
 * danfo's `__importDefault(require(…))`.
 */
const ANSWERED_UNLOADED: Readonly<Record<string, Readonly<Record<string | symbol, unknown>>>> = {
  '@tensorflow/tfjs': { Tensor: { [Symbol.hasInstance]: () => false } },
  request: { __esModule: undefined },
  papaparse: { __esModule: undefined },
  'node-fetch': { __esModule: true },
};

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
  for (const name of DEFERRED_DANFO_DEPENDENCIES) deferRequire(danfoRequire, name, ANSWERED_UNLOADED[name] ?? {});
}
