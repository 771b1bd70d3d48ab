import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const mathjs = createRequire(createRequire(import.meta.url).resolve('danfojs-node'))('mathjs') as {
  std(values: number[]): number;
};

describe('loadDanfo', () => {
  it('builds candle DataFrames without loading mathjs, xlsx, TensorFlow.js or the printing and reading libraries, and loads each when a danfo method needs it', async () => {
    // A fresh process: this one may have loaded mathjs already.
    const { stdout } = await exec(process.execPath, ['bin/run.mjs', 'test/fixtures/engine/danfo-deferred.ts']);
    const out = JSON.parse(stdout) as {
      afterBuild: string[];
      afterStd: string[];
      afterTensor: string[];
      afterPrint: string[];
      afterCsv: string[];
      afterJson: string[];
      std: number;
      tensor: number[];
      closes: number[];
      printed: string;
      csv: unknown;
      json: unknown;
    };
    expect(out.afterBuild).toEqual([]);
    expect(out.afterStd).toEqual(['mathjs']);
    expect(out.afterTensor).toEqual(['mathjs', '@tensorflow/tfjs']);
    expect(out.afterPrint).toEqual(['mathjs', '@tensorflow/tfjs', 'table']);
    expect(out.afterCsv).toEqual(['mathjs', '@tensorflow/tfjs', 'table', 'request', 'papaparse']);
    expect(out.afterJson).toEqual(['mathjs', '@tensorflow/tfjs', 'table', 'request', 'papaparse', 'node-fetch']);
    // table's box drawing, with the column names; the files as the fixture's server sends them
    expect(out.printed).toMatch(/^╔[═╤]+╗\n║\s+│ open_time\s+│ open\s+│ high/);
    expect(out.csv).toEqual([{ open: 1.5, close: 2 }, { open: 3, close: 4.25 }]);
    expect(out.json).toEqual([{ open: 5, close: 6.5 }]);
    // float32, TensorFlow.js's default dtype for numbers
    expect(out.tensor).toEqual(Array.from(Float32Array.from(out.closes)));
    expect(out.closes).toHaveLength(500);
    expect(out.std).toBe(mathjs.std(out.closes));
    expect(out.std).toBeGreaterThan(0);
  });
});
