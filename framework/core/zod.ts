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
 * @module
 */
import { createRequire } from 'node:module';
import type * as Zod from 'zod';

/** zod's `z` namespace of schema builders (CommonJS build), e.g. `z.object({ runs: z.string() })`. */
export const z = (createRequire(import.meta.url)('zod') as typeof Zod).z;

/** The types of zod's `z` namespace that the framework names: {@link z.output} and {@link z.ZodType}. */
export declare namespace z {
  /** The type a schema `S` produces once parsed (zod's `z.output`). */
  export type output<S> = Zod.z.output<S>;
  /** A schema that parses an input `I` into an `O` (zod's `z.ZodType`). */
  export type ZodType<O = unknown, I = unknown> = Zod.z.ZodType<O, I>;
}
