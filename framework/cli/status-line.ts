/**
 * A status line at the bottom of a terminal that log lines never run into: the line is redrawn in place (`\r` and
 * "erase line") and, before a log line is written, erased and then drawn again below it.
 *
 * @module
 */
import { Writable } from 'node:stream';

/** ANSI "carriage return, erase the whole line" (ECMA-48 EL 2). */
const ERASE_LINE = '\r\u001b[2K';

/** A status line on a terminal stream (standard error) together with the stream log lines should be written to. */
export class StatusLine {
  #text = '';
  readonly #out: NodeJS.WriteStream;

  /**
   * Log lines written here appear above the status line: it is erased, the log line written, and the status drawn
   * again. Hand it to the logger as its terminal destination.
   */
  readonly logStream: Writable;

  constructor(out: NodeJS.WriteStream) {
    this.#out = out;
    this.logStream = new Writable({
      write: (chunk: Buffer | string, _encoding, done) => {
        this.#out.write(`${this.#text === '' ? '' : ERASE_LINE}${String(chunk)}${this.#text}`);
        done();
      },
    });
  }

  /** Replaces the status line with `text` (one line, no newline). */
  update(text: string): void {
    this.#text = text;
    this.#out.write(`${ERASE_LINE}${text}`);
  }

  /** Ends the status line with a newline, leaving its last text on screen; later log lines go below it. */
  finish(): void {
    if (this.#text !== '') this.#out.write('\n');
    this.#text = '';
  }
}
