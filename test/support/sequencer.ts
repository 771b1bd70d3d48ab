/**
 * The order vitest starts test files in: the longest first, by the seconds each took in a full run of the suite
 * (`test/durations.json`), files not listed there (new ones) before all of them.
 *
 * vitest's own order uses the durations in its results cache under `node_modules/.vite/`, which `npm ci` (and so
 * `.ci/run`) deletes; without it vitest starts the largest files first, and on the 2-core machine the README commands
 * (165 s) started 140 s into the run and ended last but one. With the longest first, the workers end together.
 * The durations must include each file's hooks: the JSON reporter's `endTime − startTime` leaves out a `beforeAll`
 * (test/parity/chaos.test.ts, 90 s of live runs in one, was listed at 0.2 s, started last and ended the run alone).
 * To refresh the list after a full run, from vitest's own record of it:
 * `node -e 'const fs=require("fs"),path=require("path");const dir="node_modules/.vite/vitest";const file=fs.readdirSync(dir).map((d)=>path.join(dir,d,"results.json")).find((f)=>fs.existsSync(f));const o={};for(const [k,v] of JSON.parse(fs.readFileSync(file,"utf8")).results)o[k.replace(/^:/,"")]=Math.round(v.duration/100)/10;console.log(JSON.stringify(o,null,2))' > test/durations.json`
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Seconds per test file (path from the checkout's root) in a full run. */
const DURATIONS = JSON.parse(readFileSync(new URL('../durations.json', import.meta.url), 'utf8')) as Readonly<Record<string, number>>;

/** Sorts test files by their recorded duration, longest first; files without one first of all. */
export class LongestFirstSequencer extends BaseSequencer {
  override sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const seconds = (file: TestSpecification): number =>
      DURATIONS[path.relative(file.project.config.root, file.moduleId)] ?? Number.POSITIVE_INFINITY;
    return Promise.resolve([...files].sort((a, b) => (seconds(a) === seconds(b) ? 0 : seconds(b) > seconds(a) ? 1 : -1)));
  }
}
