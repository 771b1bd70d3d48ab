// Preloaded (`--require`) into every process of the test run by test/support/v8-tiering.ts: V8's interrupt budget,
// the bytecode a function runs before V8 considers optimizing it with TurboFan, at 8 times its default (67,584). See
// that file for why and what it measured.
require('node:v8').setFlagsFromString('--interrupt-budget=540672');
