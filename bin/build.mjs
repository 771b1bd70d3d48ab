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
 * as under tsx. `import.meta.url`, `import.meta.dirname` and `import.meta.filename` are replaced by the source file's,
 * so that files read beside a module (`report.css`, the strategy template) and paths computed from them are the
 * sources'. `<hash>` is the SHA-1 of the sources' paths and contents: a changed source gives a new build, and a build's
 * framework modules, once renamed into place, never change.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { threadId } from 'node:worker_threads';

/** Bumped when the build's options change, so that older builds are not reused. */
const BUILD_FORMAT = '2';

/** The checkout's root (the folder holding `framework/` and `bin/`). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Where builds are kept, each in a folder named by its hash. */
const BUILDS_DIR = path.join(PROJECT_ROOT, '.build');

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

/**
 * The build output of a framework source: `<buildDir>/framework/…/x.js` for `<root>/framework/…/x.ts`.
 *
 * @param {string} buildDir - a build's folder (`.build/<hash>`).
 * @param {string} source - absolute path of a `.ts` file under `framework/`.
 */
export function builtFile(buildDir, source) {
  return path.join(buildDir, path.relative(PROJECT_ROOT, source)).replace(/\.ts$/, '.js');
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

/**
 * esbuild's loader for a TypeScript file with `import.meta.url`, `import.meta.dirname` and `import.meta.filename`
 * replaced by the file's own (see the module doc).
 *
 * @param {string} file
 * @returns {import('esbuild').OnLoadResult}
 */
function loadWithOwnUrl(file) {
  const contents = readFileSync(file, 'utf8')
    .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(file).href))
    .replaceAll('import.meta.dirname', JSON.stringify(path.dirname(file)))
    .replaceAll('import.meta.filename', JSON.stringify(file));
  return { contents, loader: 'ts' };
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
    build.onLoad({ filter: /\.ts$/ }, (args) => loadWithOwnUrl(args.path));
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

/** The package name a strategy outside the checkout imports the framework by (see `framework/strategy/outside-imports.ts`). */
const PACKAGE_NAME = 'candlecraft';

/**
 * The esbuild plugin of {@link compileModule}: an import of a framework source becomes an import of its output in
 * `buildDir` (the module the process already loaded); a package is resolved from the importing file's folder, then
 * from the checkout's root, and imported by its path; the module's own other files are bundled into it.
 *
 * @param {string} buildDir
 * @returns {import('esbuild').Plugin}
 */
function toBuiltFramework(buildDir) {
  const framework = path.join(PROJECT_ROOT, 'framework') + path.sep;
  /** @param {string} source */
  const built = (source) => ({ path: pathToFileURL(builtFile(buildDir, source)).href, external: true });
  return {
    name: 'candlecraft-framework-from-build',
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind === 'entry-point' || args.pluginData === 'resolving') return undefined;
        if (args.path === PACKAGE_NAME) return built(path.join(framework, 'index.ts'));
        const bare = !args.path.startsWith('.') && !path.isAbsolute(args.path);
        if (bare && args.path.startsWith('node:')) return { path: args.path, external: true };
        /** @param {string} resolveDir */
        const resolve = (resolveDir) => build.resolve(args.path, { kind: args.kind, resolveDir, importer: args.importer, pluginData: 'resolving' });
        let found = await resolve(args.resolveDir);
        if (bare && found.errors.length > 0) found = await resolve(PROJECT_ROOT);
        if (found.errors.length > 0) return { errors: found.errors };
        if (found.external) return found;
        if (found.path.startsWith(framework) && found.path.endsWith('.ts')) return built(found.path);
        return bare ? { path: pathToFileURL(found.path).href, external: true } : found;
      });
      build.onLoad({ filter: /\.ts$/ }, (args) => loadWithOwnUrl(args.path));
    },
  };
}

let compiled = 0;

/**
 * Compiles a TypeScript module that is not part of the build (a strategy plugin, a node configuration, a test's
 * program) for a process running from `buildDir`, and writes it to `<buildDir>/modules/`: its imports of the framework
 * load the build's modules (so that a plugin's `BaseStrategy` is the class the engine loaded: one copy of the
 * framework per process), its packages load as they would from its folder (else from the checkout's), and its own
 * other files are bundled in. An inline source map keeps the file's lines for stack traces.
 *
 * @param {string} file - absolute path of the `.ts` (or `.js`) module.
 * @param {string} buildDir - the build the process runs from (`.build/<hash>`).
 * @returns {Promise<string>} the absolute path of the compiled module (unique to this call in this process and thread).
 * @throws esbuild's error (file, line and message of each problem) when the module does not compile.
 */
async function compileModule(file, buildDir) {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [file],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'inline',
    plugins: [toBuiltFramework(buildDir)],
    logLevel: 'silent',
  });
  const dir = path.join(buildDir, 'modules');
  mkdirSync(dir, { recursive: true });
  const out = path.join(dir, `${path.basename(file).replace(/\.[cm]?[jt]s$/, '')}-${process.pid}-${threadId}-${compiled++}.mjs`);
  writeFileSync(out, result.outputFiles[0]?.text ?? '');
  return out;
}

/**
 * Imports a TypeScript module that is not part of the build, compiled by {@link compileModule}; the compiled file is
 * removed once imported (Node keeps the module, and its inline source map, in memory).
 *
 * @param {string} file - absolute path of the module.
 * @param {string} buildDir - the build the process runs from (`.build/<hash>`).
 * @returns {Promise<Record<string, unknown>>} the module's namespace.
 * @throws esbuild's error when the module does not compile; the module's own error when its evaluation throws.
 */
export async function importCompiled(file, buildDir) {
  const out = await compileModule(file, buildDir);
  try {
    return await import(pathToFileURL(out).href);
  } finally {
    rmSync(out, { force: true });
  }
}
