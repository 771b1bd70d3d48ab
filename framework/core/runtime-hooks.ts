/**
 * Module hooks (Node's `module.register`, run on its hooks thread) registered by
 * {@link "core/runtime"!enableTypeScriptImports | enableTypeScriptImports} in a process that runs from the framework's
 * build: an import that resolves to a framework source (`…/framework/…/x.ts`) is sent to its build output
 * (`…/.build/<hash>/framework/…/x.js`), the module the process already loaded.
 *
 * @module
 */

/** The folders' URLs, from `register`'s `data`. */
interface RedirectData {
  readonly sources: string;
  readonly build: string;
}

interface ResolveResult {
  readonly url: string;
  readonly format?: string | null;
}

type NextResolve = (specifier: string, context: unknown) => Promise<ResolveResult>;

let folders: RedirectData | undefined;

/** Node's `initialize` hook: receives {@link RedirectData}. */
export function initialize(data: RedirectData): void {
  folders = data;
}

/** Node's `resolve` hook: the redirect of the module description; every other import resolves as before. */
export async function resolve(specifier: string, context: unknown, nextResolve: NextResolve): Promise<ResolveResult> {
  const result = await nextResolve(specifier, context);
  if (folders === undefined || !result.url.startsWith(`${folders.sources}/`) || !result.url.endsWith('.ts')) return result;
  return { url: `${folders.build}${result.url.slice(folders.sources.length).replace(/\.ts$/, '.js')}`, format: 'module' };
}
