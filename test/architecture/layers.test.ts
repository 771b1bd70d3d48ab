import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/**
 * The layering of framework/: no cycles between its folders (dependency-cruiser's folder-scope rule in
 * .dependency-cruiser.cjs, the same check as `npm run lint:layers`), and parquet-wasm, apache-arrow and ccxt loaded only
 * through their modules, framework/store/parquet.ts, framework/store/arrow.ts and framework/core/ccxt.ts (each rule
 * seen red with a value import added elsewhere).
 */
describe('framework layering', () => {
  it('has no dependency cycle between folders and loads parquet-wasm, apache-arrow and ccxt through their modules', () => {
    let output: string;
    try {
      output = execFileSync('npx', ['depcruise', 'framework', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      output = `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`;
    }
    expect(output).toContain('no dependency violations found');
  });
});
