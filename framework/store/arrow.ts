/**
 * apache-arrow's values (classes such as `Field` and `Schema`, `makeData`, `tableFromIPC`), loaded through Node's
 * CommonJS `require` (its `Arrow.node.js` build) instead of `import`.
 *
 * apache-arrow's ES module build is 146 files, and under tsx (every CLI) each one passes through tsx's module hooks,
 * which Node 20 runs on a separate thread, a round trip per file; `require` loads them on the main thread without that
 * (on the 2-core machine under load: 0.65 s of CPU for `import`, 0.35 s for `require`, in every process that reads or
 * writes Parquet), as framework/core/ccxt.ts does for ccxt. Every framework module takes arrow's values from here, so
 * that a process holds one copy of its classes; types are imported from `apache-arrow` itself (`import type`), which
 * loads nothing.
 *
 * @module
 */
import { createRequire } from 'node:module';
import type * as Arrow from 'apache-arrow';

/** The apache-arrow module (CommonJS build), e.g. `new arrow.Field(name, new arrow.Float64(), false)`. */
export const arrow = createRequire(import.meta.url)('apache-arrow') as typeof Arrow;
