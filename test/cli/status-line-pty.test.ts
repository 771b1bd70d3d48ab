/**
 * The live status line on a real terminal: `npm run live`'s command run under a pseudo-terminal (util-linux `script`,
 * so standard error is a TTY and the `\r` status line is drawn), its output replayed through a small terminal model
 * (carriage return, line feed, "erase line"; colours dropped). Every log line must start a line of its own and no line
 * may hold both a log line and the status (issue 16: `…| signals 0[14:18:30.957] INFO: signal`).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const scratch = mkdtempSync(path.join(tmpdir(), 'status-pty-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** What a terminal shows after `output`, line by line: `\r` returns to column 0, `\n` moves down, ESC[2K blanks the line. */
function screen(output: string): string[] {
  const lines: string[][] = [[]];
  let row = 0;
  let col = 0;
  for (let i = 0; i < output.length; i++) {
    const c = output[i]!;
    if (c === '\u001b') {
      const csi = /^\u001b\[([0-9;?]*)([A-Za-z])/.exec(output.slice(i, i + 16));
      if (csi === null) throw new Error(`unexpected escape at ${i}: ${JSON.stringify(output.slice(i, i + 8))}`);
      if (csi[2] === 'K' && csi[1] === '2') lines[row] = [];
      else if (csi[2] !== 'm') throw new Error(`unexpected control sequence ${JSON.stringify(csi[0])}`);
      i += csi[0].length - 1;
    } else if (c === '\r') {
      col = 0;
    } else if (c === '\n') {
      row += 1;
      lines[row] ??= [];
    } else {
      const line = lines[row]!;
      while (line.length < col) line.push(' ');
      line[col++] = c;
    }
  }
  return lines.map((l) => l.join(''));
}

/** A log line's start, as pino-pretty writes it: `[HH:MM:SS.mmm] LEVEL:`. */
const LOG_START = /\[\d\d:\d\d:\d\d\.\d{3}\] (TRACE|DEBUG|INFO|WARN|ERROR|FATAL):/g;
/** A piece of the status line (cli/live.ts `statusLine`). */
const STATUS = /\| rate-limit waits \d+ \| signals \d+/;

describe('the live status line under a pseudo-terminal', () => {
  it('never shares a line with a log line', { timeout: 240_000 }, async () => {
    const command = [
      process.execPath, 'bin/run.mjs', 'framework/cli/live.ts', 'strategies/ema-cross.ts', '--exchange', 'sim',
      '--speed', '36000', '--start', '2021-07-01', '--max-candles', '40',
      '--runs', path.join(scratch, 'runs'), '--store', path.join(scratch, 'store'),
    ].join(' ');
    // -q quiet, -f flush at once, -e exit with the command's code; the typescript file is a copy we do not need.
    const child = spawn('script', ['-qfec', command, path.join(scratch, 'typescript')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    const raw = output.replace(/\u001b\[[0-9;]*m/g, '');
    // The run drew its status and wrote log lines while it was on screen (the case to get right).
    const logs = raw.match(LOG_START) ?? [];
    const firstStatus = raw.search(STATUS);
    expect(firstStatus).toBeGreaterThanOrEqual(0);
    expect(raw.lastIndexOf(logs.at(-1) ?? '\u0000')).toBeGreaterThan(firstStatus);
    expect(logs.length).toBeGreaterThan(1);
    const shown = screen(output);
    // Every log line written is on screen, at the start of a line of its own; no line holds the status and a log line.
    expect(shown.filter((line) => /^\[\d\d:\d\d:\d\d\.\d{3}\] /.test(line))).toHaveLength(logs.length);
    for (const line of shown) {
      expect((line.match(LOG_START) ?? []).length, line).toBeLessThanOrEqual(1);
      if (STATUS.test(line)) expect(line, 'a status line holding a log line').not.toMatch(LOG_START);
    }
    // The status left on screen: the last one drawn, ended with a newline at the stop, then the final one on stdout.
    expect(shown.filter((line) => STATUS.test(line)).length).toBeGreaterThanOrEqual(1);
  });
});
