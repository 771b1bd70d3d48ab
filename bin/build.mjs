// @ts-check
/**
 * The framework's JavaScript build: every module of `framework/` transpiled by esbuild into
 * `.build/<hash>/framework/…/<name>.js`, one output file per source file, with its relative imports rewritten to the
 * outputs (`'../core/zod'` → `'../core/zod.js'`) and everything else (`ccxt`, `node:fs`) left to Node.
 *
 * Why: under tsx every module a command loads passes through tsx's hooks, which Node 20 runs on a separate thread, one
 * round trip per file. A command's start-up cost 0.8 s of CPU that way against 0.3 s from this build, and the test
 * suite starts some 250 commands and workers. `bin/run.mjs` runs the commands from it.
 *
 * The module graph is the sources' own (no bundling, no code moved between files), so modules load in the same order
 * as under tsx. `import.meta.url` is replaced by the source file's URL, so that files read beside a module
 * (`report.css`, the strategy template) and paths computed from it are the sources'. `<hash>` is the SHA-1 of the
 * sources' paths and contents: a changed source gives a new build, and a build, once renamed into place, never changes.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** Bumped when the build's options change, so that older builds are not reused. */
const BUILD_FORMAT = '1';

/** The checkout's root (the folder holding `framework/` and `bin/`). */
export const PROJECT_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

/** Where builds are kept, each in a folder named by its hash. */
export const BUILDS_DIR = path.join(PROJECT_ROOT, '.build');

/** The TypeScript modules of `framework/` (tests aside), as paths relative to the root, sorted. */
function sourceFiles() {
  /** @type {string[]} */
  const files = [];
  /** @param {string} dir */
  const walk = (dir) => {
    for (const entry of readdirSync(path.join(PROJECT_ROOT, dir), { withFileTypes: true })) {
      const relative = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(relative);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) files.push(relative);
    }
  };
  walk('framework');
  return files.sort();
}

/** @param {readonly string[]} files */
function hashOf(files) {
  const hash = createHash('sha1').update(BUILD_FORMAT);
  for (const file of files) hash.update(file).update('\0').update(readFileSync(path.join(PROJECT_ROOT, file))).update('\0');
  return hash.digest('hex').slice(0, 16);
}

/**
 * The source file a relative import names, as esbuild's bundler resolution finds it (`x.ts`, then `x/index.ts`).
 *
 * @param {string} fromDir
 * @param {string} specifier
 */
function resolveSource(fromDir, specifier) {
  const base = path.resolve(fromDir, specifier);
  for (const candidate of [base, `${base}.ts`, path.join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return null;
}

/** @type {import('esbuild').Plugin} */
const sourceToOutput = {
  name: 'candlecraft-one-file-per-module',
  setup(build) {
    build.onResolve({ filter: /^\.\.?(\/|$)/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      const target = resolveSource(args.resolveDir, args.path);
      if (target === null || !target.endsWith('.ts')) return undefined;
      let relative = path.relative(path.dirname(args.importer), target).replace(/\.ts$/, '.js');
      if (!relative.startsWith('.')) relative = `./${relative}`;
      return { path: relative, external: true };
    });
    build.onLoad({ filter: /\.ts$/ }, (args) => ({
      contents: readFileSync(args.path, 'utf8').replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
      loader: 'ts',
    }));
  },
};

/**
 * The folder of the current build, made first when the sources changed since the last one (about half a second).
 * Processes building at once each write their own temporary folder; the first rename wins and the others are removed.
 *
 * @returns {Promise<string>} the absolute path of `.build/<hash>`, which holds `framework/…/*.js`.
 * @throws the esbuild error (a message per file and line) when a source does not compile.
 */
export async function ensureBuild() {
  const files = sourceFiles();
  const dir = path.join(BUILDS_DIR, hashOf(files));
  if (existsSync(dir)) return dir;
  const { build } = await import('esbuild');
  const temporary = `${dir}.tmp-${process.pid}-${Date.now()}`;
  await build({
    absWorkingDir: PROJECT_ROOT,
    entryPoints: files,
    outdir: temporary,
    outbase: '.',
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    plugins: [sourceToOutput],
    logLevel: 'silent',
  });
  try {
    renameSync(temporary, dir);
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    if (!existsSync(dir)) throw error;
  }
  return dir;
}
