import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';

/** How chatty a command is: `--verbose` → `debug`, default `info`, `--quiet` → `warn`. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * A structured logger (pino) writing to standard error, so that standard output carries only a command's result (the
 * report table, a listing).
 *
 * - Standard error is a terminal: human-readable lines through `pino-pretty` (`[14:03:07.412] INFO: message` plus the
 *   record's fields, times in UTC, coloured unless the `NO_COLOR` environment variable is non-empty), written synchronously so that a line is on
 *   screen before the next statement runs (and before the process exits).
 * - Otherwise (a file, a pipe, a test harness): one JSON object per line, with `level` (pino's number: 20 debug,
 *   30 info, 40 warn, 50 error), `time` in UTC epoch ms and `msg`; asynchronous, unless `syncPipe`: a process whose
 *   reader may vanish (a node worker: with an asynchronous destination pino's exit flush retries a pipe whose reader is
 *   gone forever, EPIPE, and the worker of a SIGKILLed node never exited). Not for every command: a synchronous write
 *   to a pipe its reader does not drain blocks the whole process once the pipe is full (a live child whose parent
 *   never read its stderr stopped before its first candle).
 *
 * `pino-pretty` (30 files) is required only for a terminal: a command whose standard error is a file or a pipe, as in
 * the tests, never loads it.
 *
 * @param level - the lowest level written (default `info`).
 * @param terminal - where the human-readable lines go when standard error is a terminal (default: standard error
 *   itself), e.g. a stream that clears a status line before each log line.
 * @param syncPipe - write synchronously to a file or pipe too (default false; see above).
 */
export function createLogger(level: LogLevel = 'info', terminal?: NodeJS.WritableStream, syncPipe = false): Logger {
  if (process.stderr.isTTY !== true) return pino({ level, base: null }, pino.destination({ dest: 2, sync: syncPipe }));
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
  return pino(
    { level, base: null },
    pretty({
      destination: terminal ?? 2,
      sync: true,
      colorize: (process.env['NO_COLOR'] ?? '') === '',
      translateTime: 'UTC:HH:MM:ss.l',
      ignore: 'pid,hostname',
    }),
  );
}

export type { Logger } from 'pino';
