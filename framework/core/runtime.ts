/**
 * How this process runs the framework: from its JavaScript build (started by `bin/run.mjs`, which sets the
 * `CANDLECRAFT_BUILD` environment variable to the build's folder; see `bin/build.mjs`) or from the TypeScript sources
 * under tsx (`node --import tsx`, `npx tsx`, the test runner). Code that starts another process or thread on a
 * framework module, or imports a strategy plugin, asks here how.
 *
 * @module
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The environment variable holding the build folder (`.build/<hash>`) this process and its children run from. */
const BUILD_ENV = 'CANDLECRAFT_BUILD';

/** The checkout's root (in a build, `import.meta.url` is the source file's URL: see `bin/build.mjs`). */
const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The launcher that runs a TypeScript entry from the build: `node bin/run.mjs <file.ts> [arguments…]`. */
export const LAUNCHER = path.join(PROJECT_ROOT, 'bin', 'run.mjs');

/** The build folder this process runs from, or undefined under tsx. */
function buildDir(): string | undefined {
  const dir = process.env[BUILD_ENV];
  return dir === undefined || dir === '' ? undefined : dir;
}

/**
 * The file Node should load for a framework module: its build output (`.build/<hash>/framework/…/x.js`) when this
 * process runs from a build, else the source itself.
 *
 * @param source - absolute path of a `.ts` file under `framework/`.
 */
export function runnableFile(source: string): string {
  const dir = buildDir();
  if (dir === undefined) return source;
  return path.join(dir, path.relative(PROJECT_ROOT, source)).replace(/\.ts$/, '.js');
}

/** What `child_process.fork` needs to run a TypeScript module: the file forked, its arguments and Node's options. */
export interface ForkCommand {
  readonly module: string;
  readonly args: readonly string[];
  readonly execArgv: readonly string[];
}

/**
 * How to fork `module` (a TypeScript file) with `args` as this process runs: through `bin/run.mjs` from the same
 * build, or under tsx (`--import tsx`).
 */
export function forkCommand(module: string, args: readonly string[]): ForkCommand {
  return buildDir() === undefined
    ? { module, args, execArgv: ['--import', 'tsx'] }
    : { module: LAUNCHER, args: [module, ...args], execArgv: [] };
}

/** What `bin/build.mjs` gives this module (it is plain JavaScript, outside `framework/`). */
interface BuildModule {
  importCompiled(file: string, buildDir: string): Promise<Record<string, unknown>>;
}

/** The modules {@link importTypeScript} compiled, by path: like `import()`, once per process. */
const compiledModules = new Map<string, Promise<Record<string, unknown>>>();

/**
 * Imports a TypeScript module that is not part of the framework (a strategy plugin, a node configuration): under tsx,
 * `import()` as is; from a build, the module compiled by esbuild with its framework imports sent to the build
 * (`importCompiled` in `bin/build.mjs`), so that a plugin's `BaseStrategy` is the class the engine already loaded (one
 * copy of the framework's classes and state per process) and no TypeScript hooks are loaded. Either way a module is
 * loaded once per process (thread): a second call gives the same module.
 *
 * @param file - absolute path of the module.
 * @throws the module's import error, or esbuild's error (file, line and message) when it does not compile.
 */
export function importTypeScript(file: string): Promise<Record<string, unknown>> {
  const dir = buildDir();
  if (dir === undefined) return import(pathToFileURL(file).href) as Promise<Record<string, unknown>>;
  let module = compiledModules.get(file);
  if (module === undefined) {
    const build = import(pathToFileURL(path.join(PROJECT_ROOT, 'bin', 'build.mjs')).href) as Promise<BuildModule>;
    module = build.then((b) => b.importCompiled(file, dir));
    compiledModules.set(file, module);
  }
  return module;
}

/** Whether this process runs from the framework's build (started by `bin/run.mjs`), rather than under tsx. */
export function runsFromBuild(): boolean {
  return buildDir() !== undefined;
}
