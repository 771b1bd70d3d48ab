/**
 * The layering of framework/ (checked by `npm run lint:layers`, and in the test suite): no cycles between folders.
 * dependency-cruiser's folder-scope rule (https://github.com/sverweij/dependency-cruiser/blob/main/doc/rules-reference.md).
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
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '\\.test\\.ts$' },
  },
};
