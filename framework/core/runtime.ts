/**
 * How this process runs the framework: from its JavaScript build (started by `bin/run.mjs`, which sets
 * {@link BUILD_ENV} to the build's folder; see `bin/build.mjs`) or from the TypeScript sources under tsx
 * (`node --import tsx`, `npx tsx`, the test runner). Code that starts another process or thread on a framework module,
 * or imports a strategy plugin, asks here how.
 *
 * @module
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The environment variable holding the build folder (`.build/<hash>`) this process and its children run from. */
export const BUILD_ENV = 'CANDLECRAFT_BUILD';

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

/** tsx's main entry, what `--import tsx` loads (a variable: the package declares no types for it). */
const TSX_PRELOAD: string = 'tsx';

let typeScriptImports: Promise<void> | undefined;

/**
 * Lets a process running from a build import TypeScript files (strategy plugins, node configurations, test programs):
 * loads what `--import tsx` loads (tsx's hooks for ES modules and its CommonJS loader, which a file outside the
 * checkout is loaded by), then a resolve hook (`runtime-hooks.ts`) that sends every import of a framework source
 * to its build output, so that a plugin's `BaseStrategy` is the class the engine already loaded (one copy of the
 * framework's classes and state per process). Under tsx it does nothing. Once per process.
 */
export function enableTypeScriptImports(): Promise<void> {
  typeScriptImports ??= (async () => {
    const dir = buildDir();
    if (dir === undefined) return;
    await import(TSX_PRELOAD);
    (await import('node:module')).register(pathToFileURL(runnableFile(path.join(PROJECT_ROOT, 'framework', 'core', 'runtime-hooks.ts'))), {
      data: { sources: pathToFileURL(path.join(PROJECT_ROOT, 'framework')).href, build: pathToFileURL(path.join(dir, 'framework')).href },
    });
  })();
  return typeScriptImports;
}

let typeScriptRequire = false;

/**
 * Lets `require` load TypeScript files in a worker thread of a process running from a build (tsx's CommonJS hook, what
 * `--import tsx` gives a worker thread). Under tsx it does nothing. Once per thread.
 */
export function enableTypeScriptRequire(): void {
  if (typeScriptRequire || buildDir() === undefined) return;
  typeScriptRequire = true;
  (createRequire(import.meta.url)('tsx/cjs/api') as { register: () => unknown }).register();
}
