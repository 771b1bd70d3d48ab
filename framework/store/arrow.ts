/**
 * apache-arrow's values (classes such as `Field` and `Schema`, `makeData`, `tableFromIPC`), loaded through Node's
 * CommonJS `require` from the single-file build the package ships (`Arrow.esnext.min.js`, the same API in one file)
 * instead of `import`.
 *
 * apache-arrow's ES module build is 146 files, and under tsx each one passes through tsx's module hooks, which Node 20
 * runs on a separate thread, a round trip per file; its CommonJS entry (`Arrow.node.js`) still loads 147 files, each
 * resolved, read and compiled. The single file loads in a fifth of the time: on the 2-core machine `require` of the
 * package's entry took 0.11 s of CPU over a bare Node start and of `Arrow.esnext.min` 0.03 s, and a command that fails
 * at once (a backtest of a missing strategy) went from 0.48 to 0.40 s of CPU (15 alternating runs each). Every process
 * that reads or writes Parquet pays it. The framework uses none of the Node-only parts that file leaves out (Node
 * stream adapters). Every framework module takes arrow's values from here, so that a process holds one copy of its
 * classes; types are imported from `apache-arrow` itself (`import type`), which loads nothing.
 *
 * @module
 */
import { createRequire } from 'node:module';
import type * as Arrow from 'apache-arrow';

/** The apache-arrow module (its single-file build), e.g. `new arrow.Field(name, new arrow.Float64(), false)`. */
export const arrow = createRequire(import.meta.url)('apache-arrow/Arrow.esnext.min') as typeof Arrow;
