/**
 * zod's `z` (the schema builders the CLIs and loaders validate with), loaded through Node's CommonJS `require` (zod's
 * `index.cjs` build) instead of `import`, as framework/core/ccxt.ts and framework/store/arrow.ts load theirs.
 *
 * zod's ES module build is about 100 files, and under tsx (every CLI) each one passes through tsx's module hooks, which
 * Node 20 runs on a separate thread, a round trip per file: on the 2-core machine, `import 'zod'` took about 0.33 s of
 * CPU and `require('zod')` about 0.2 s, in every CLI process and worker. Every framework module takes `z` from here,
 * so that a process holds one copy of zod's classes. Types come from `zod` itself (`import type`), which loads nothing:
 * `z.output<S>` and `z.ZodType<O, I>` are declared below under the same name.
 *
 * zod loads its error messages in every language it has (`z.locales`: 64 of the 95 modules zod 4.6 loads) while only
 * English (`en`, which its schemas require directly) is used unless `z.config(z.locales.xx())` asks for another. The
 * index of those translations is deferred (framework/core/deferred-require.ts): loaded on first access of `z.locales`.
 * That took about 25 ms of CPU off `require('zod')` (20 loads each way, 2-core machine); on a whole command's start
 * (about 0.5 s) the gain was within the machine's noise (0 to 50 ms in four paired runs of 20 and 30 starts).
 *
 * @module
 */
import { createRequire } from 'node:module';
import type * as Zod from 'zod';
import { deferRequire } from './deferred-require';

/** zod's `z` namespace of schema builders (CommonJS build), e.g. `z.object({ runs: z.string() })`. */
export const z = loadZod();

function loadZod(): typeof Zod.z {
  const require = createRequire(import.meta.url);
  // zod reads `__esModule` of the index as it loads (TypeScript's `__importStar`): true, as the real module says.
  deferRequire(createRequire(require.resolve('zod')), 'zod/v4/locales', { __esModule: true });
  return (require('zod') as typeof Zod).z;
}

/** The types of zod's `z` namespace that the framework names: {@link z.output} and {@link z.ZodType}. */
export declare namespace z {
  /** The type a schema `S` produces once parsed (zod's `z.output`). */
  export type output<S> = Zod.z.output<S>;
  /** A schema that parses an input `I` into an `O` (zod's `z.ZodType`). */
  export type ZodType<O = unknown, I = unknown> = Zod.z.ZodType<O, I>;
}
