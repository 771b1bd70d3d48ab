import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const require = createRequire(import.meta.url);
// `typedoc/bin/typedoc` is not in the package's `exports`, so it is found next to its package.json.
const TYPEDOC_BIN = join(dirname(require.resolve('typedoc/package.json')), 'bin', 'typedoc');
const ROOT = join(import.meta.dirname, '..', '..');

interface Outcome {
  readonly code: number;
  readonly output: string;
}

/**
 * Runs typedoc with the project's typedoc.json, writing the site to `out`; never throws on a non-zero exit. Without
 * typedoc's own type check (`--skipErrorChecking`, a fifth of its CPU): the types are checked by `tsc --noEmit`
 * (`npm run typecheck`, run by .ci/run beside the tests); this test is about the documentation.
 */
async function typedoc(out: string): Promise<Outcome> {
  const env = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' };
  try {
    const { stdout, stderr } = await exec(process.execPath, [TYPEDOC_BIN, '--out', out, '--skipErrorChecking'], {
      cwd: ROOT,
      env,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('API documentation (npm run docs)', () => {
  const out = mkdtempSync(join(tmpdir(), 'candlecraft-docs-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  // A guard against a hang, not a speed target: typedoc took over 180 s of wall time at load 25 on the 2-core machine.
  it('builds with typedoc.json without a single warning or error', { timeout: 480_000 }, async () => {
    const { code, output } = await typedoc(out);
    // typedoc.json treats warnings as errors and validates links, exports and doc comments, so every warning is
    // listed here when the build fails.
    const problems = output.split('\n').filter((line) => /\[(warning|error)\]/.test(line));
    expect(problems).toEqual([]);
    expect(code, output).toBe(0);
    expect(existsSync(join(out, 'index.html')), 'index.html written').toBe(true);
    expect(existsSync(join(out, 'modules', 'core_errors.html')), 'a page for the core/errors module').toBe(true);
  });
});
