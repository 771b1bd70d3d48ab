/**
 * framework/core/zod.ts defers zod's translations of its messages (`z.locales`): a process that validates loads the
 * English messages only, and `z.locales` still gives every language once asked for (seen red with the deferral
 * removed: every translation loaded with zod).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);

describe('core/zod', () => {
  it('loads English messages only, and every translation on first use of z.locales', async () => {
    // A fresh process: this one may have used z.locales already.
    const { stdout } = await exec(process.execPath, ['bin/run.mjs', 'test/fixtures/core/zod-locales.ts']);
    const out = JSON.parse(stdout) as { afterLoad: string[]; english: string; afterParse: string[]; german: string; afterGerman: number };
    expect(out.afterLoad).toEqual(['en.cjs']);
    expect(out.english).toBe('Invalid input: expected number, received string');
    expect(out.afterParse).toEqual(['en.cjs']);
    expect(out.german).toBe('Ungültige Eingabe: erwartet Zahl, erhalten string');
    // The index and each of its languages: 64 modules in zod 4.6.
    expect(out.afterGerman).toBeGreaterThan(40);
  });
});
