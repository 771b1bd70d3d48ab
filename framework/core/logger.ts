import { pino, type Logger } from 'pino';

/** How chatty a command is: `--verbose` → `debug`, default `info`, `--quiet` → `warn`. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * A structured logger (pino: one JSON object per line, with `level`, `time` in epoch ms and `msg`) writing to
 * standard error, so that standard output carries only a command's result (the report table, a listing).
 */
export function createLogger(level: LogLevel = 'info'): Logger {
  return pino({ level, base: null }, pino.destination(2));
}

export type { Logger } from 'pino';
