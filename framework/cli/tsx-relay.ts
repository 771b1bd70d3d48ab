/**
 * Keeps a command's clean stop out of reach of tsx's signal relay.
 *
 * `npx tsx <file>` runs the file in a child Node process (tsx's CLI, tsx 4) and relays every SIGINT and SIGTERM the
 * CLI gets to that child; when the child has not acknowledged a relayed signal within 30 ms (its main thread busy), it
 * sends it again and, 30 ms later, SIGKILLs it (`relaySignalToChild` in tsx's `dist/cli.mjs`). A terminal's Ctrl-C
 * reaches the child directly, and under `npx` npm forwards it to tsx once more: that relay meets a child busy writing
 * its run (the summary and the report are written synchronously) and kills it. `npm run live` (`bin/run.mjs`) has no
 * relay.
 *
 * {@link runOutsideTsxRelay} moves the command one process down: under tsx's CLI it starts the same command again as
 * a plain child, as `npm run live` runs it (the same node options without tsx's, from the framework's build through
 * `bin/run.mjs`; still in the terminal's process group, so Ctrl-C reaches it), forwards SIGINT and SIGTERM to it, and
 * ends with its exit code; this process, idle, acknowledges tsx's relays at once. Should tsx kill it all the same, its
 * child sees the IPC channel close and stops as on SIGINT. Not under tsx's hooks, the child loads the modules of its
 * stop (the report's) without tsx's esbuild service: a child process in the terminal's process group too, which the
 * Ctrl-C ends, so that a module tsx had not yet transformed and cached failed to load ("The service was stopped").
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { LAUNCHER } from '../core/runtime';

/** Marks the child started by {@link runOutsideTsxRelay}. */
const CHILD_VARIABLE = 'CANDLECRAFT_OUTSIDE_TSX_RELAY';

/** tsx's preflight, which its CLI gives its child (`--require <…/tsx/dist/preflight.cjs>`). */
const TSX_PREFLIGHT = /[\\/]tsx[\\/]dist[\\/]preflight\.cjs$/;

/** Whether `value` is one of the files tsx's CLI gives its child: the preflight and `--import <…/tsx/dist/loader.mjs>`. */
const isTsxFile = (value: string | undefined): boolean => TSX_PREFLIGHT.test(value ?? '') || /[\\/]tsx[\\/]dist[\\/]loader\.mjs$/.test(value ?? '');

/** `execArgv` without tsx's `--require <…/tsx/dist/preflight.cjs>` and `--import <…/tsx/dist/loader.mjs>`. */
function withoutTsx(execArgv: readonly string[]): string[] {
  return execArgv.filter((arg, i) => !isTsxFile(arg) && !((arg === '--require' || arg === '--import') && isTsxFile(execArgv[i + 1])));
}

/**
 * Under tsx's CLI: runs this command (`process.argv`) again in a child process beyond tsx's relay (see the module
 * description) and resolves with its exit code (128 + the signal's number when a signal ended it). Elsewhere resolves
 * with null and the caller runs the command itself; in the child so started, a closed IPC channel (this process gone)
 * sends the process a SIGINT.
 */
export async function runOutsideTsxRelay(): Promise<number | null> {
  if (process.env[CHILD_VARIABLE] === '1') {
    process.once('disconnect', () => process.kill(process.pid, 'SIGINT'));
    process.channel?.unref();
    return null;
  }
  if (!process.execArgv.some((arg) => TSX_PREFLIGHT.test(arg))) return null;
  const child = spawn(process.execPath, [...withoutTsx(process.execArgv), LAUNCHER, ...process.argv.slice(1)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [CHILD_VARIABLE]: '1' },
  });
  const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c, s) => resolve([c, s]));
  });
  return code ?? 128 + (signal === null ? 0 : constants.signals[signal]);
}
