/**
 * One writing process per dataset: a lock taken by the write-ahead log for as long as it is open and by each
 * partition write, so that two commands writing the same dataset (two live runs on one symbol and timeframe, a
 * download into the store a live run writes) fail with one line instead of losing candles. Without it, a partition
 * merged by two processes at once keeps one process's candles, and a log compacted by one process while another
 * appends to it loses the other's acknowledged candles.
 *
 * ## Files
 *
 * Each holder writes its own file in the dataset's folder, `writer-<pid>.lock`, holding one line of JSON:
 * `{"pid":1234,"command":"live.js strategies/macd.ts --exchange sim","since":1733360000000,"boot":"…","start":5306}`
 * (`since` in UTC epoch ms; `boot` and `start` on Linux, see below). To acquire, a process writes its file (a temporary
 * file linked into place, so that a lock file is never seen half-written), then lists the folder's lock files: if
 * another one names a running process, it removes its own file and throws {@link DatasetLockedError}. Of two processes
 * acquiring at once, at most one succeeds (each lists after writing its own file, so the later lister sees the
 * earlier's file); both may fail, and both say why. A lock file whose process has ended (killed, crashed:
 * `kill(pid, 0)` fails with `ESRCH`, or the process is a zombie) is stale and is removed by the next writer, so a
 * crash never leaves a dataset locked; so is, on Linux, one written before the machine last booted or whose pid now
 * names another process (reused: it started at another clock tick than the one the lock recorded). Per-process files
 * rather than one shared file: removing a stale lock can then never remove a live one.
 *
 * Within one process the lock is re-entrant (counted): the log's compaction writes partitions under the log's lock, and
 * a test that reopens a log without closing it (a crash within the process) takes its own lock over.
 *
 * Why not a library: `proper-lockfile` (the well-kept one) decides staleness by the lock's age, refreshed on a timer,
 * so a dataset stays locked for seconds after its writer is killed, where a restart must resume at once; Node has no
 * `flock`, and `fs-ext` is a native addon that needs an install script.
 *
 * Readers take no lock: partitions are replaced atomically (see `writeCandles`), so a backtest can read a dataset a
 * live run is writing. Pids are of one machine: a dataset folder shared by two machines is not protected.
 *
 * @module
 */

import { linkSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { FrameworkError } from '../core/errors';
import { isoUtc } from '../core/time';

/** Another running process writes the dataset; the message names it (pid, command, since when). */
export class DatasetLockedError extends FrameworkError {}

/**
 * What a lock file holds: the writing process, its command line, since when (UTC epoch ms), and on Linux the boot and
 * the start tick that tell the writer from a later process given the same pid (see `processIdentity`).
 */
interface LockHolder {
  readonly pid: number;
  readonly command: string;
  readonly since: number;
  readonly boot?: string;
  readonly start?: number;
}

const LOCK_FILE = /^writer-(\d+)\.lock$/;

/** This process's locks: folder → how many holders in this process. */
const held = new Map<string, number>();

/**
 * Takes the dataset folder's writer lock for this process (see the module comment); call the returned function once
 * to release it. The folder must exist.
 *
 * @param folder - the dataset's folder (`datasetDir(root, subscription)`).
 * @param dataset - what to call the dataset in the error, e.g. `binance BTC/USDT 15m in live-data`.
 * @returns the release function (idempotent).
 * @throws {@link DatasetLockedError} when another running process holds the lock (nothing written); I/O errors.
 */
export function acquireWriterLock(folder: string, dataset: string): () => void {
  const dir = resolve(folder);
  const count = held.get(dir) ?? 0;
  if (count === 0) writeOwnLock(dir, dataset);
  held.set(dir, count + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const left = (held.get(dir) ?? 1) - 1;
    if (left > 0) {
      held.set(dir, left);
      return;
    }
    held.delete(dir);
    rmSync(join(dir, lockName(process.pid)), { force: true });
  };
}

/**
 * Runs `write` holding the dataset folder's writer lock, released when it returns or throws.
 *
 * @throws {@link DatasetLockedError} (before `write` runs) when another running process holds it; what `write` throws.
 */
export function withWriterLock<T>(folder: string, dataset: string, write: () => T): T {
  const release = acquireWriterLock(folder, dataset);
  try {
    return write();
  } finally {
    release();
  }
}

function writeOwnLock(dir: string, dataset: string): void {
  const own = join(dir, lockName(process.pid));
  const identity = processIdentity(process.pid);
  const holder: LockHolder = {
    pid: process.pid,
    command: commandLine(),
    since: Date.now(),
    ...(identity !== null && { boot: identity.boot, start: identity.start }),
  };
  const temporary = join(dir, `.${lockName(process.pid)}.${Date.now()}.tmp`);
  writeFileSync(temporary, `${JSON.stringify(holder)}\n`);
  // A file of this pid left by an earlier process that had the same pid and ended without releasing.
  rmSync(own, { force: true });
  try {
    linkSync(temporary, own);
  } finally {
    rmSync(temporary, { force: true });
  }
  const other = runningHolder(dir);
  if (other !== null) {
    rmSync(own, { force: true });
    throw new DatasetLockedError(
      `${dataset} is being written by another process (pid ${other.pid}, since ${isoUtc(other.since)}: ${other.command}); ` +
        'one process writes a dataset at a time: wait for it to end or stop it, or write to another folder',
    );
  }
}

/** The first other lock holder of `dir` whose process is running; stale lock files found on the way are removed. */
function runningHolder(dir: string): LockHolder | null {
  for (const name of readdirSync(dir)) {
    const pid = Number(LOCK_FILE.exec(name)?.[1] ?? Number.NaN);
    if (!Number.isSafeInteger(pid) || pid === process.pid) continue;
    const path = join(dir, name);
    const holder = readHolder(path);
    if (!isRunning(pid, holder)) {
      rmSync(path, { force: true });
      continue;
    }
    return holder ?? { pid, command: '(unknown command)', since: Date.now() };
  }
  return null;
}

function readHolder(path: string): LockHolder | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
  } catch {
    return null;
  }
}

/**
 * Whether process `pid` is still the writer of lock `holder`: it exists, and where Linux's `/proc` tells (and the lock
 * recorded it) it is not a zombie, the machine has not rebooted since (`boot_id`), and the pid's process started at the
 * same clock tick as the writer (a pid reused after the writer ended is another process). Elsewhere: whether it exists.
 */
function isRunning(pid: number, holder: LockHolder | null): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  const now = processIdentity(pid);
  if (now === null) return true;
  if (now.zombie) return false;
  if (holder?.boot === undefined || holder.start === undefined) return true;
  return holder.boot === now.boot && holder.start === now.start;
}

/**
 * What identifies a process across pid reuse on Linux: the boot it runs in (`/proc/sys/kernel/random/boot_id`), its
 * start time in clock ticks after boot (`/proc/<pid>/stat` field 22, proc(5)), and whether it is a zombie (field 3);
 * null where these cannot be read.
 */
function processIdentity(pid: number): { readonly boot: string; readonly start: number; readonly zombie: boolean } | null {
  try {
    // `<pid> (<comm>) <state> …`: the command name may hold spaces and parentheses, so fields count from the last `)`.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = Number(fields[19]);
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return Number.isSafeInteger(start) && boot !== '' ? { boot, start, zombie: fields[0] === 'Z' } : null;
  } catch {
    return null;
  }
}

function lockName(pid: number): string {
  return `writer-${pid}.lock`;
}

/** The command for the error message: the program's file name and its arguments, at most 200 characters. */
function commandLine(): string {
  return [basename(process.argv[1] ?? 'node'), ...process.argv.slice(2)].join(' ').slice(0, 200);
}
