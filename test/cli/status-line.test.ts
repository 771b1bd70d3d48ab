import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { StatusLine } from '../../framework/cli/status-line';
import { pino } from 'pino';

/** A stream that keeps what is written to it, standing in for a terminal's standard error. */
function terminal(): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
}

const ERASE = '\r\u001b[2K';

describe('StatusLine', () => {
  it('erases the status before a log line and draws it again below, so that the two never share a line', async () => {
    const out = terminal();
    const status = new StatusLine(out.stream);
    const logger = pino({ base: null, timestamp: false }, status.logStream);
    status.update('open | candles 1 | signals 0');
    logger.info('signal');
    status.update('open | candles 2 | signals 1');
    status.finish();
    logger.info('stopped');
    await new Promise((resolve) => setImmediate(resolve));
    expect(out.text()).toBe(
      `${ERASE}open | candles 1 | signals 0` +
        `${ERASE}{"level":30,"msg":"signal"}\nopen | candles 1 | signals 0` +
        `${ERASE}open | candles 2 | signals 1\n` +
        '{"level":30,"msg":"stopped"}\n',
    );
    // What a terminal shows: every log line on a line of its own, the status last.
    const screen = out.text().split('\n').map((line) => line.split(ERASE).at(-1));
    expect(screen).toEqual(['{"level":30,"msg":"signal"}', 'open | candles 2 | signals 1', '{"level":30,"msg":"stopped"}', '']);
  });
});
