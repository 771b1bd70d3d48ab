import { defineConfig } from 'vitest/config';
import { LongestFirstSequencer } from './test/support/sequencer';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'framework/**/*.test.ts'],
    // A guard against a hung test, not a speed target (speed is `npm run bench`'s): at load 30 on the 2-core machine a
    // test of a few child processes took over 60 s.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Each of the four forks runs file after file with its module cache kept: the framework and its dependencies
    // (ccxt, apache-arrow, tfjs through danfo: ~2 s of CPU) are imported once per fork rather than once per file,
    // which saved 40% of the CPU of the unit files. The tests share no state through it: none mocks a module, and
    // those that set an environment variable restore it.
    isolate: false,
    // Most files wait on child processes, sockets, Chromium or RabbitMQ rather than compute: five files at a time keep
    // both cores busy (one at a time left them idle half the run; with four, 7% of the run's CPU time stayed idle, with
    // five 2-4%, measured with vmstat). The tests assert on what happened, not on timing.
    maxWorkers: 5,
    // Temporary folders on the RAM file system where there is one; V8's optimizing compiler later in every process of
    // the run (test/support/v8-tiering.ts); the framework's build the commands run from (bin/run.mjs), made once before
    // the files start; the RabbitMQ server shared by the files using test/support/use-rabbitmq.ts, started by the
    // first of them.
    globalSetup: ['test/support/ram-tmpdir.ts', 'test/support/v8-tiering.ts', 'test/support/build-global.ts', 'test/support/rabbitmq-global.ts'],
    // Longest files first (test/durations.json), so that no long file starts near the end of the run.
    sequence: { sequencer: LongestFirstSequencer },
  },
});
