import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const mathjs = createRequire(createRequire(import.meta.url).resolve('danfojs-node'))('mathjs') as {
  std(values: number[]): number;
};

describe('loadDanfo', () => {
  it('builds candle DataFrames without loading mathjs, xlsx or TensorFlow.js, and loads each when a danfo method needs it', async () => {
    // A fresh process: this one may have loaded mathjs already.
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', 'test/fixtures/engine/danfo-deferred.ts']);
    const out = JSON.parse(stdout) as {
      afterBuild: string[];
      afterStd: string[];
      afterTensor: string[];
      std: number;
      tensor: number[];
      closes: number[];
    };
    expect(out.afterBuild).toEqual([]);
    expect(out.afterStd).toEqual(['mathjs']);
    expect(out.afterTensor).toEqual(['mathjs', '@tensorflow/tfjs']);
    // float32, TensorFlow.js's default dtype for numbers
    expect(out.tensor).toEqual(Array.from(Float32Array.from(out.closes)));
    expect(out.closes).toHaveLength(500);
    expect(out.std).toBe(mathjs.std(out.closes));
    expect(out.std).toBeGreaterThan(0);
  });
});
