import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * File-system steps of the project's writes: writing a buffer whole, and making a write survive a crash (a new file or
 * rename is durable only once the directory holding it is fsynced too; POSIX, see fsync(2)).
 *
 * @module
 */

/** Creates `dir` and any missing parents, making each new directory entry durable by fsyncing its parent. */
export function mkdirDurable(dir: string): void {
  const first = mkdirSync(dir, { recursive: true });
  if (first === undefined) return;
  for (let d = dir; ; d = dirname(d)) {
    fsyncDir(dirname(d));
    if (d === first) break;
  }
}

/** Fsyncs a directory, making the entries created or renamed in it durable. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes all of `bytes` to `fd` at its current position (`writeSync` may write fewer bytes than asked). */
export function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done);
}
