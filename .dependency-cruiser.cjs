/**
 * The layering of framework/ (checked by `npm run lint:layers`, and in the test suite): no cycles between folders
 * (dependency-cruiser's folder-scope rule), and the libraries that must be loaded one way loaded only through their
 * module (https://github.com/sverweij/dependency-cruiser/blob/main/doc/rules-reference.md).
 */
module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycles',
      severity: 'error',
      comment: 'Folders under framework/ must not depend on each other in a cycle: the path of a candle stays one direction.',
      from: { path: '^framework/' },
      to: { circular: true },
      scope: 'folder',
    },
    {
      name: 'parquet-wasm-through-store-parquet',
      severity: 'error',
      comment: "parquet-wasm's values come from framework/store/parquet.ts, which sets V8's WebAssembly tiering before the module compiles; types may be imported directly.",
      from: { path: '^framework/', pathNot: '^framework/store/parquet\\.ts$' },
      to: { path: 'node_modules/parquet-wasm/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'ccxt-through-core-ccxt',
      severity: 'error',
      comment: "ccxt's values come from framework/core/ccxt.ts (the Binance classes and errors without the other exchanges, one copy of each class); types may be imported directly.",
      from: { path: '^framework/', pathNot: '^framework/core/ccxt\\.ts$' },
      to: { path: 'node_modules/ccxt/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'apache-arrow-through-store-arrow',
      severity: 'error',
      comment: "apache-arrow's values come from framework/store/arrow.ts (its CommonJS build, one copy of its classes); types may be imported directly.",
      from: { path: '^framework/', pathNot: '^framework/store/arrow\\.ts$' },
      to: { path: 'node_modules/apache-arrow/', dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '\\.test\\.ts$' },
    // As Node resolves a package (parquet-wasm has only conditional exports, its Node build under "node").
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
