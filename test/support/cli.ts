import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** How a CLI run ended: its exit code and what it printed. */
export interface CliOutcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs one of the project's CLI scripts (`framework/cli/<name>.ts`) in a child Node process from the framework's
 * build (`bin/run.mjs`), as the npm scripts do, from the checkout's root, with this process's environment and `env` over it; never throws on a
 * non-zero exit.
 */
export async function runCli(script: string, args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<CliOutcome> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['bin/run.mjs', script, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
