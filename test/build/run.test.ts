/**
 * The commands' runner (`bin/run.mjs`) and the framework's build (`bin/build.mjs`), with real child processes: a
 * program and a strategy plugin outside the build, compiled when loaded, share the build's framework modules (one
 * `BaseStrategy` class per process), a module is imported once per process, the program sees its own path, arguments
 * and `import.meta` paths, and a framework module runs from `.build/<hash>/`.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);

describe('node bin/run.mjs', () => {
  it('runs a program against the build, with the strategy plugin it loads on the same framework modules', async () => {
    const { stdout } = await exec(process.execPath, ['bin/run.mjs', 'test/fixtures/build/one-framework.ts', 'strategies/ema-cross.ts']);
    expect(JSON.parse(stdout)).toEqual({
      fromBuild: true,
      sameBaseStrategy: true,
      sameModule: true,
      argv: ['test/fixtures/build/one-framework.ts', 'strategies/ema-cross.ts'],
      importMeta: ['test/fixtures/build/one-framework.ts', 'test/fixtures/build/one-framework.ts', 'test/fixtures/build'],
    });
  });

  it('runs a framework command from its build output, and refuses a path that is not a module of the build', async () => {
    const { stdout } = await exec(process.execPath, ['bin/run.mjs', 'framework/cli/data.ts', '--help']);
    expect(stdout).toMatch(/^Usage: data/m);
    const missing = await exec(process.execPath, ['bin/run.mjs', 'framework/cli/nothing-here.ts']).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(missing?.code).toBe(2);
    expect(missing?.stderr).toMatch(/^bin\/run\.mjs: framework\/cli\/nothing-here\.ts is not a module of the framework's build \(.*\.build\/[0-9a-f]{16}\)\n$/);
  });
});
