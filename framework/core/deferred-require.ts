/**
 * Deferring a CommonJS module that a package requires when it loads but reads only later, if ever: a stand-in is put
 * in Node's module cache under the module's file, so that the package's `require` gets it instead of executing the
 * module. The stand-in is an object that requires the real module on first access of a property (and forwards to it
 * from then on); the keys given as `unloaded` are answered without loading it. A module already in the cache is left
 * alone.
 *
 * Used for the dependencies of danfojs-node that a candle DataFrame never touches (framework/engine/danfo.ts) and for
 * zod's translations of its error messages into other languages (framework/core/zod.ts).
 *
 * @module
 */
import { Module } from 'node:module';

/**
 * Puts a stand-in for module `name`, as `packageRequire` resolves it, in the module cache, unless the module is there
 * already (see the module comment).
 *
 * @param packageRequire - a `require` of the package that requires the module (`createRequire(<a file of it>)`).
 * @param name - the module as that package names it (`'mathjs'`, `'zod/v4/locales'`).
 * @param unloaded - what the stand-in answers while the module is not loaded, by key (e.g. `__esModule`, which
 *   TypeScript's `__importDefault` and `__importStar` read when the package loads).
 * @throws Node's `MODULE_NOT_FOUND` error when `name` does not resolve from the package.
 */
export function deferRequire(packageRequire: NodeJS.Require, name: string, unloaded: Readonly<Record<string | symbol, unknown>> = {}): void {
  const file = packageRequire.resolve(name);
  if (packageRequire.cache[file] !== undefined) return;
  const standIn = new Module(file);
  standIn.filename = file;
  standIn.loaded = true;
  standIn.exports = onFirstUse(() => {
    if (packageRequire.cache[file] === standIn) delete packageRequire.cache[file];
    return packageRequire(name) as object;
  }, unloaded);
  packageRequire.cache[file] = standIn;
}

/**
 * An object that forwards every property read and reflection to `load()`'s result, calling `load` once, when first
 * needed; until then, a read of a key of `unloaded` gives its value there.
 */
function onFirstUse(load: () => object, unloaded: Readonly<Record<string | symbol, unknown>>): object {
  let real: object | undefined;
  const target = (): object => (real ??= load());
  return new Proxy(
    {},
    {
      get: (_, key) => (real === undefined && Object.hasOwn(unloaded, key) ? unloaded[key] : Reflect.get(target(), key)),
      has: (_, key) => Reflect.has(target(), key),
      ownKeys: () => Reflect.ownKeys(target()),
      getOwnPropertyDescriptor: (_, key) => {
        const descriptor = Reflect.getOwnPropertyDescriptor(target(), key);
        return descriptor === undefined ? undefined : { ...descriptor, configurable: true };
      },
    },
  );
}
