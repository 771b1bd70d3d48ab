/**
 * Vitest global set-up: the run's temporary folders (`os.tmpdir()`: the tests' scratch folders, the shared RabbitMQ
 * server's state, the files of every child process) go to a folder of its own on the machine's RAM file system
 * (`/dev/shm`, Linux's tmpfs) when it has one with room, and that folder is removed when the run ends. Elsewhere they
 * stay where `TMPDIR` says.
 *
 * The tests write a few hundred MB of runs, stores and write-ahead logs, each followed by an `fsync` or `fdatasync`,
 * and remove their folders again; on the 2-core machine's ext4 disk (mounted with `discard`) that cost the suite 5 to
 * 10% of its CPU and wall time (two runs on each: vitest 312 and 278 s on tmpfs, 329 and 314 s on disk). The syscalls
 * are the same on tmpfs (test/store/durability-order.test.ts still sees every `fdatasync` in order); what a SIGKILL
 * test proves holds on both, as a killed process leaves the page cache behind either way.
 *
 * Set before the test files start, so that the forks vitest starts, and every process they start, inherit it.
 */
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { join } from 'node:path';

/** The RAM file system, and the free space it must have to be used (bytes). */
const RAM_FS = '/dev/shm';
const ROOM = 2 * 1024 ** 3;

function hasRoom(dir: string): boolean {
  try {
    const stats = statfsSync(dir);
    return stats.bavail * stats.bsize >= ROOM;
  } catch {
    return false;
  }
}

export default function setup(): () => void {
  if (!hasRoom(RAM_FS)) return () => undefined;
  const dir = mkdtempSync(join(RAM_FS, 'candlecraft-tests-'));
  const previous = process.env['TMPDIR'];
  process.env['TMPDIR'] = dir;
  return () => {
    if (previous === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = previous;
    rmSync(dir, { recursive: true, force: true });
  };
}
