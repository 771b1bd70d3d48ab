/**
 * Vitest global set-up: the run's temporary folders (`os.tmpdir()`: the tests' scratch folders, the shared RabbitMQ
 * server's state, the files of every child process) go to a folder of its own on the machine's RAM file system
 * (`/dev/shm`, Linux's tmpfs) when it has one with room, and that folder is removed when the run ends. Elsewhere they
 * stay where `TMPDIR` says.
 *
 * The tests write runs, stores and write-ahead logs, each followed by an `fsync` or `fdatasync`, and remove their
 * folders again. On the 2-core machine's ext4 disk that cost the suite 5 to 11% of its wall time (vitest with four
 * files at a time: 329 s on disk, 312 s on tmpfs; with five: 314 and 278 s). Which part of the disk's work (the
 * journal, the syncs, the `discard` the disk is mounted with) costs most was not measured apart. The syscalls are the
 * same on tmpfs: test/store/durability-order.test.ts still sees every `fdatasync` in order, and goes red on tmpfs too
 * when the write-ahead log's `fdatasync` is made a no-op. What a SIGKILL test proves holds on both, as a killed
 * process leaves the page cache behind either way.
 *
 * Set before the test files start, so that the forks vitest starts, and every process they start, inherit it. The
 * folder's name carries the test runner's pid: a run that was killed before its teardown leaves its folder in RAM, and
 * the next run removes every such folder whose runner is gone. Where the folder cannot be made, nothing changes.
 */
import { mkdtempSync, readdirSync, rmSync, statfsSync } from 'node:fs';
import { join } from 'node:path';

/** The RAM file system, and the free space it must have to be used (bytes). */
const RAM_FS = '/dev/shm';
const ROOM = 2 * 1024 ** 3;

/** Whether the file system of `dir` has {@link ROOM} free (false when it cannot be asked). */
function hasRoom(dir: string): boolean {
  try {
    const stats = statfsSync(dir);
    return stats.bavail * stats.bsize >= ROOM;
  } catch {
    return false;
  }
}

/** The folders of earlier runs: `candlecraft-tests-<runner pid>-<random>`. */
const RUN_FOLDER = /^candlecraft-tests-(\d+)-/;

/** Whether process `pid` exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the folders of earlier runs whose test runner no longer exists. */
function removeLeftovers(): void {
  for (const name of readdirSync(RAM_FS)) {
    const pid = RUN_FOLDER.exec(name)?.[1];
    if (pid !== undefined && !alive(Number(pid))) rmSync(join(RAM_FS, name), { recursive: true, force: true });
  }
}

/** A folder of this run's own on the RAM file system, or undefined where there is none with room or it cannot be made. */
function ramFolder(): string | undefined {
  if (!hasRoom(RAM_FS)) return undefined;
  try {
    removeLeftovers();
    return mkdtempSync(join(RAM_FS, `candlecraft-tests-${process.pid}-`));
  } catch {
    return undefined;
  }
}

export default function setup(): () => void {
  const dir = ramFolder();
  if (dir === undefined) return () => undefined;
  const previous = process.env['TMPDIR'];
  process.env['TMPDIR'] = dir;
  return () => {
    if (previous === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = previous;
    rmSync(dir, { recursive: true, force: true });
  };
}
