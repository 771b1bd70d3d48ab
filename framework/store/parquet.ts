/**
 * parquet-wasm's values (the Parquet reader and writer, `WriterPropertiesBuilder`, `Compression`, `Encoding`), loaded
 * after V8 is told to optimise its WebAssembly only where a run really spends its time.
 *
 * parquet-wasm is the Rust `parquet` crate compiled to one 5 MB WebAssembly module, compiled when it loads. V8 runs
 * WebAssembly first as quickly compiled baseline code (Liftoff) and recompiles a function with its optimising compiler
 * (TurboFan) once it has run about `--wasm-tiering-budget` bytes of code (1,800,000 by default in Node 20's V8). A
 * project process reads and writes a few small files (a month of candles is one file, a run writes three), so that
 * recompilation, on background threads, cost more CPU than the optimised code ever saved. Measured on the 2-core machine:
 * a backtest of one day took 1.3 s of CPU with the default budget and 0.95 s with the budget below (0.9 s with no
 * optimising at all, `--liftoff-only`); reading the eight months of the 5m dataset 40 times in one process, 1.1 s and
 * 0.84 s (0.5 s); 200 times (13 million candles), 2.0 s and 1.7 s, where `--liftoff-only` took the longest wall time.
 * So the budget is raised, not the optimising compiler turned off: a process that reads millions of rows still gets it
 * where it pays.
 *
 * The flag is set with `v8.setFlagsFromString` before the module is compiled, so every framework module takes
 * parquet-wasm's values from here (the architecture test holds them to it); its types are imported from `parquet-wasm`
 * itself (`import type`), which loads nothing. The flag is process-wide and concerns WebAssembly only.
 *
 * @module
 */
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import type * as ParquetWasm from 'parquet-wasm';

/** Bytes of a WebAssembly function's code run before V8 recompiles it optimised (see the module comment). */
const WASM_TIERING_BUDGET = 100_000_000;

setFlagsFromString(`--wasm-tiering-budget=${WASM_TIERING_BUDGET}`);

/** The parquet-wasm module (its Node build), e.g. `parquet.readParquet(bytes)`. */
export const parquet = createRequire(import.meta.url)('parquet-wasm') as typeof ParquetWasm;
