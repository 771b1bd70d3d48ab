/**
 * Module hooks (Node's `module.register`, run on its hooks thread) registered by
 * {@link "core/runtime"!enableTypeScriptImports | enableTypeScriptImports} in a process that runs from the framework's
 * build: an import that resolves to a framework source (`…/framework/…/x.ts`) is sent to its build output
 * (`…/.build/<hash>/framework/…/x.js`), the module the process already loaded.
 *
 * @module
 */
import type { InitializeHook, ResolveHook } from 'node:module';

/** The folders' `file:` URLs (no trailing slash), given as `register`'s `data`. */
export interface RedirectData {
  /** The sources' `framework/` folder. */
  readonly sources: string;
  /** The build's `framework/` folder (`.build/<hash>/framework`). */
  readonly build: string;
}

let folders: RedirectData | undefined;

/** Node's `initialize` hook: receives the {@link RedirectData}. */
export const initialize: InitializeHook<RedirectData> = (data) => {
  folders = data;
};

/** Node's `resolve` hook: the redirect of the module description; every other import resolves as before. */
export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  const result = await nextResolve(specifier, context);
  if (folders === undefined || !result.url.startsWith(`${folders.sources}/`) || !result.url.endsWith('.ts')) return result;
  return { url: `${folders.build}${result.url.slice(folders.sources.length).replace(/\.ts$/, '.js')}`, format: 'module' };
};
