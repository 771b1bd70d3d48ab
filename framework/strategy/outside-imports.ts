/**
 * Strategy files outside the checkout: their bare imports (`technicalindicators`, `danfojs-node`) resolve from this
 * project's `node_modules`, and the package name `candlecraft` names the framework's public API (`framework/index.ts`),
 * so that `/anywhere/my-strategy.ts` can be written as
 *
 * ```ts
 * import { SMA } from 'technicalindicators';
 * import { BaseStrategy, type Candle, type DataFrame, type Frame, type Signal } from 'candlecraft';
 * ```
 *
 * tsx loads a `.ts` file outside any `"type": "module"` package as CommonJS, whose resolution looks only in the
 * `node_modules` folders above the file. Node 20 has no public resolve hook for CommonJS (`module.registerHooks`
 * arrives in Node 22.15), so this wraps `Module._resolveFilename`, the function `require` resolves through (stable
 * since Node 0.x, and what tools such as `module-alias` wrap): a bare specifier that fails from the file's folder is
 * resolved again from the project root. Files inside the checkout resolve as before.
 *
 * @module
 */
import Module from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout's root: the folder holding `framework/`. */
const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The package name strategy files outside the checkout import the framework by. */
const PACKAGE_NAME = 'candlecraft';

type ResolveFilename = (request: string, parent: unknown, isMain: boolean, options?: unknown) => string;

let installed = false;

/** Whether `file` (an absolute path) lies outside the checkout. */
export function isOutsideProject(file: string): boolean {
  const relative = path.relative(PROJECT_ROOT, file);
  return relative.startsWith('..') || path.isAbsolute(relative);
}

/** Installs the fallback resolution of the module doc (once per process). */
export function resolveImportsFromProject(): void {
  if (installed) return;
  installed = true;
  const internals = Module as unknown as { _resolveFilename: ResolveFilename };
  const original = internals._resolveFilename;
  const fromProject = Module.createRequire(path.join(PROJECT_ROOT, 'package.json'));
  internals._resolveFilename = function (request, parent, isMain, options) {
    if (request === PACKAGE_NAME) return path.join(PROJECT_ROOT, 'framework', 'index.ts');
    try {
      return original.call(this, request, parent, isMain, options);
    } catch (error) {
      const bare = !request.startsWith('.') && !path.isAbsolute(request) && !request.startsWith('node:');
      if (!bare || (error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
      return fromProject.resolve(request);
    }
  };
}
