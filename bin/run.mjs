#!/usr/bin/env node
// @ts-check
/**
 * Runs a TypeScript program of the project from the framework's JavaScript build: `node bin/run.mjs <file.ts>
 * [arguments…]`, as `node --import tsx <file.ts> [arguments…]` would, with a third of the start-up CPU (see
 * `bin/build.mjs`, which makes the build first when the sources changed). The npm scripts run the commands this way.
 *
 * A module under `framework/` runs from its build output; any other file (a test's program) is compiled against the
 * build first (`importCompiled`). The program sees `process.argv` as under tsx: `[node, <its file>, …arguments]`.
 * `--verbose` (or `-v`) turns on source maps, so that a stack trace names the sources' lines. Forked children inherit
 * the build through the `CANDLECRAFT_BUILD` environment variable.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { builtFile, ensureBuild, importCompiled, PROJECT_ROOT } from './build.mjs';

const BUILD_ENV = 'CANDLECRAFT_BUILD';

const [file, ...args] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: node bin/run.mjs <file.ts> [arguments…]');
  process.exit(2);
}
const inherited = process.env[BUILD_ENV];
const build = inherited !== undefined && inherited !== '' && existsSync(inherited) ? inherited : await ensureBuild();
process.env[BUILD_ENV] = build;
if (args.includes('--verbose') || args.includes('-v')) process.setSourceMapsEnabled(true);

const source = path.resolve(file);
const built = path.relative(PROJECT_ROOT, source).startsWith(`framework${path.sep}`) ? builtFile(build, source) : null;
if (built !== null && !existsSync(built)) {
  console.error(`bin/run.mjs: ${file} is not a module of the framework's build (${build})`);
  process.exit(2);
}
process.argv = [process.argv[0] ?? process.execPath, built ?? source, ...args];
if (built !== null) await import(pathToFileURL(built).href);
else await importCompiled(source, build);
