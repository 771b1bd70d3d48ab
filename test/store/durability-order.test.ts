/**
 * Durability seen from outside the process: a live run on the simulator runs under Debian's `strace -f`, which logs
 * every write and sync the process (all its threads) makes, in order, with the file each goes to. The run acts on a
 * candle right after journaling it in `candles.jsonl`; the write-ahead log promises that by then the candle was written
 * to `wal.log` and an `fdatasync` of `wal.log` begun after that write has returned. A SIGKILL keeps the page cache,
 * so crash tests cannot see a missing sync; this one does (make `fdatasync` a no-op in framework/store/wal.ts and it
 * fails). strace comes from `scripts/install-strace.sh` (`npm test`'s pretest) and needs ptrace (root here).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { replayCandles } from '../../framework/feeds/replay';
import { startSimulator } from '../../framework/sim/simulator';

const STRATEGY = 'test/fixtures/strategies/candle-body-1m.ts';
const M1 = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1m' } as const;
const CANDLES = 60;
const scratch = mkdtempSync(path.join(tmpdir(), 'durability-order-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** One system call as strace logged it: its line numbers (entry, return: the order of events), file and data. */
interface Syscall {
  readonly name: string;
  readonly path: string;
  /** The call's arguments after the file descriptor, as strace printed them (strings C-escaped). */
  readonly args: string;
  readonly result: number;
  readonly entered: number;
  readonly returned: number;
}

/**
 * Parses `strace -f` output (`<tid> <time> name(fd, args...) = result`, with a blocking call split into
 * `name(... <unfinished ...>` and, later, `<... name resumed>...) = result` on the same thread). The file of each call
 * is the one the traced `openat` that returned its fd opened (not strace's `-y`, which reads `/proc/<pid>/fd` and gets
 * nothing where a sandbox hides it: CI logged no write to `candles.jsonl` that way).
 */
function parseStrace(text: string): Syscall[] {
  const calls: Syscall[] = [];
  const open = new Map<string, { name: string; args: string; entered: number }>();
  const files = new Map<number, string>();
  const finish = (name: string, args: string, result: string, entered: number, returned: number): void => {
    if (name === 'openat') {
      const opened = /^[^,]*, "((?:[^"\\]|\\.)*)"/.exec(args);
      const fd = Number(/^(-?\d+)/.exec(result)?.[1]);
      if (opened !== null && fd >= 0) files.set(fd, opened[1]!);
      return;
    }
    const target = /^(\d+),? ?(.*)$/s.exec(args);
    if (target === null) return;
    const fd = Number(target[1]);
    if (name === 'close') {
      if (entered === returned) files.delete(fd); // an unfinished close released its fd at its entry (see below)
      return;
    }
    calls.push({ name, path: files.get(fd) ?? '', args: target[2]!, result: Number(/^(-?\d+)/.exec(result)?.[1] ?? Number.NaN), entered, returned });
  };
  for (const [i, line] of text.split('\n').entries()) {
    const m = /^(\d+) +[\d.]+ (.*)$/.exec(line); // strace pads the pid to five columns
    if (m === null) continue;
    const [, tid, rest] = m as unknown as [string, string, string];
    const resumed = /^<\.\.\. (\w+) resumed>(.*)\) += (.*)$/.exec(rest);
    if (resumed !== null) {
      const key = `${tid} ${resumed[1]}`;
      const call = open.get(key);
      open.delete(key);
      if (call !== undefined) finish(call.name, call.args + resumed[2], resumed[3]!, call.entered, i);
      continue;
    }
    const entry = /^(\w+)\((.*)$/.exec(rest);
    if (entry === null) continue;
    const [, name, args] = entry as unknown as [string, string, string];
    if (args.endsWith('<unfinished ...>')) {
      // close releases its fd on entry: another thread's openat may return the same fd before this close's
      // `resumed` line, and the file of that fd is then the newly opened one.
      if (name === 'close') files.delete(Number(/^(\d+)/.exec(args)?.[1]));
      open.set(`${tid} ${name}`, { name, args: args.slice(0, -'<unfinished ...>'.length), entered: i });
      continue;
    }
    const done = /^(.*)\) += (.*)$/.exec(args);
    if (done !== null) finish(name, done[1]!, done[2]!, i, i);
  }
  return calls;
}

describe('durability order, observed with strace', () => {
  it('acts on no candle before an fdatasync of the write-ahead log that covers it has returned', async () => {
    const candles = replayCandles('datasets', M1);
    const sim = await startSimulator({
      markets: [{ symbol: M1.symbol, timeframe: M1.timeframe, candles }],
      startTime: Date.UTC(2021, 3, 21, 2, 0),
      speed: 3_000,
      seed: 3,
    });
    const trace = path.join(scratch, 'strace.txt');
    const runs = path.join(scratch, 'runs');
    try {
      const child = spawn(
        'strace',
        ['-f', '--seccomp-bpf', '-qq', '-ttt', '-s', '65536', '-e', 'trace=openat,close,write,pwrite64,writev,pwritev,fdatasync,fsync', '-o', trace,
          process.execPath, 'bin/run.mjs', 'framework/cli/live.ts', STRATEGY, '--sim-url', sim.restUrl, '--speed', '3000',
          '--store', path.join(scratch, 'store'), '--runs', runs, '--max-candles', String(CANDLES), '--quiet'],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code, stderr.slice(-2_000)).toBe(0);
    } finally {
      await sim.stop();
    }

    const traceText = readFileSync(trace, 'utf8');
    const calls = parseStrace(traceText);
    const walWrites = calls.filter((c) => c.path.endsWith('/wal.log') && /^p?writev?$/.test(c.name));
    const walSyncs = calls.filter((c) => c.path.endsWith('/wal.log') && (c.name === 'fdatasync' || c.name === 'fsync') && c.result === 0);
    const actions = calls.filter((c) => c.path.endsWith('/candles.jsonl') && c.name.startsWith('write'));
    // A log line is `<crc32> [openTime,...]\n`; a journal line holds `"openTime":<ms>` (quotes escaped by strace).
    const loggedAt = new Map<number, Syscall>();
    for (const w of walWrites) {
      for (const m of w.args.matchAll(/[0-9a-f]{8} \[(\d+),/g)) if (!loggedAt.has(Number(m[1]))) loggedAt.set(Number(m[1]), w);
    }
    expect(actions.length, `strace logged ${calls.length} calls on files; its first lines:\n${traceText.slice(0, 1_500)}`).toBe(CANDLES);
    const unsynced: string[] = [];
    for (const action of actions) {
      const openTime = Number(/openTime\\?":(\d+)/.exec(action.args)?.[1]);
      const written = loggedAt.get(openTime);
      const synced = written !== undefined && walSyncs.some((s) => s.entered > written.returned && s.returned < action.entered);
      if (!synced) {
        // The raw strace lines that hold the candle's log record, for a diagnosis of the failure.
        const raw = written === undefined ? traceText.split('\n').filter((l) => l.includes(`[${openTime},`)).map((l) => l.slice(0, 160)) : [];
        unsynced.push(`${new Date(openTime).toISOString()}: ${written === undefined ? `never written to wal.log; strace lines with it: ${JSON.stringify(raw)}` : 'no fdatasync of wal.log returned between its write and the action'}`);
      }
    }
    expect(unsynced).toEqual([]);
    expect(readdirSync(runs)).toHaveLength(1);
  }, 180_000);
});
