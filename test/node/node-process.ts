/**
 * What the node scenarios share: `npm run node` as a real child process (its stderr kept, its exit awaited, waits that
 * fail as soon as it exits), its workers' processes, and the files its workers write (run folders, JSON lines).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { runCli } from '../support/cli';

/** The node processes started and not yet seen exit (see {@link killNodes}). */
const started = new Set<NodeProcess>();

/** A running `npm run node -- <args>` (from the framework's build, `bin/run.mjs`, at the checkout's root). */
export class NodeProcess {
  readonly child: ChildProcess;
  /** Everything it (and its workers, which inherit it) wrote to stderr so far. */
  stderr = '';
  /** Its exit code (null when killed by a signal), once it exits. */
  readonly exited: Promise<number | null>;

  constructor(args: readonly string[], env: NodeJS.ProcessEnv = process.env) {
    this.child = spawn(process.execPath, ['bin/run.mjs', 'framework/cli/node.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.child.stdout!.resume();
    started.add(this);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code) => {
        started.delete(this);
        resolve(code);
      }),
    );
  }

  /** Whether it is still running. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Polls `predicate` every `pollMs` until it holds. Fails at once when the node exits meanwhile, or after
   * `timeoutMs` (a guard against a hung test, not a speed target), with the end of its stderr. The default interval
   * is a fraction of a candle's real time in the scenarios (100–300 ms): the predicates re-read growing journals, and
   * polling them faster only costs CPU.
   */
  async until(predicate: () => boolean, what: string, { pollMs = 200, timeoutMs = 300_000 } = {}): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; node stderr: ${this.stderr.slice(-3_000)}`);
      if (!this.running) throw new Error(`the node exited (${this.child.exitCode ?? this.child.signalCode}) while waiting for ${what}: ${this.stderr.slice(-3_000)}`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  /** SIGKILLs it (when still running) and waits for its exit. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** SIGKILLs every node process still running (a test's afterAll). */
export async function killNodes(): Promise<void> {
  await Promise.all([...started].map((node) => node.kill()));
}

/** Whether process `pid` still runs (a zombie, exited and waiting to be reaped, does not). */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The run folders of strategy `id` under the node's `runs` folder, oldest first. */
export function runDirs(runs: string, id: string): string[] {
  const dir = path.join(runs, id);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => path.join(dir, name));
}

/** The complete JSON lines of `file` (none when it does not exist; a torn last line is left out). */
export function jsonLines<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.endsWith('}'))
    .map((line) => JSON.parse(line) as T);
}

/** The broker checkpoints in a run's `trading.jsonl` (one per candle acted on, one more at a clean stop). */
export function checkpoints(dir: string | undefined): number {
  return dir === undefined ? 0 : jsonLines<{ kind: string }>(path.join(dir, 'trading.jsonl')).filter((l) => l.kind === 'state').length;
}

/** A node scenario's scratch folder: its runs folder, control socket and configuration file. */
export interface NodeScratch {
  readonly scratch: string;
  readonly runs: string;
  readonly control: string;
  readonly config: string;
}

/** Makes a scratch folder named after `prefix` and writes the node configuration `yaml` (lines) into it. */
export function nodeScratch(prefix: string, yaml: readonly string[]): NodeScratch {
  const scratch = mkdtempSync(path.join(tmpdir(), prefix));
  const config = path.join(scratch, 'node.yaml');
  writeFileSync(config, [...yaml, ''].join('\n'));
  return { scratch, runs: path.join(scratch, 'runs'), control: path.join(scratch, 'node.sock'), config };
}

/**
 * `npm run diff -- --run <dir> --run <dir> …` on the run folders `dirs` in one process (each with the strategy file its
 * run.json names): it exits 0, and each run's report is printed, with nothing unexplained.
 */
export async function expectDiffsClean(dirs: readonly string[]): Promise<void> {
  const diff = await runCli('framework/cli/diff.ts', dirs.flatMap((dir) => ['--run', dir]));
  expect(diff.code, `${diff.stdout}\n${diff.stderr}`).toBe(0);
  const reports = diff.stdout.trimEnd().split('\n\n');
  if (dirs.length > 1) expect(reports.at(-1)).toBe(`${dirs.length} runs compared, 0 with unexplained differences`);
  dirs.forEach((dir, i) => {
    expect(reports[i], dir).toContain(`comparison written to ${path.join(dir, 'diff.json')}`);
    expect(reports[i], dir).toMatch(/signals: .* \(0 unexplained\)/);
  });
}
