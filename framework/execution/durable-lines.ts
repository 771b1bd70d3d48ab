import { closeSync, fdatasyncSync, openSync } from 'node:fs';
import { writeAll } from '../store/durable';

/**
 * An append-only JSON Lines file (https://jsonlines.org) whose every line is durable when {@link append} returns: one
 * `write` per line (a killed process leaves whole lines, at most a torn last one) followed by `fdatasync(2)`. For the
 * few, precious records of the execution layer (orders, events), not for per-candle data.
 *
 * The file is created on the first line, so a run without any record leaves none.
 */
export class DurableLines {
  readonly #path: string;
  #fd: number | null = null;

  /** @param path - the file; appended to when it exists (a continued run), created on the first line otherwise. */
  constructor(path: string) {
    this.#path = path;
  }

  /**
   * Appends `record` as one line (`JSON.stringify`: give null, not NaN, for a missing number) and makes it durable.
   *
   * @throws the file system's error when the file cannot be opened or written (e.g. `ENOSPC`).
   */
  append(record: object): void {
    this.#fd ??= openSync(this.#path, 'a');
    writeAll(this.#fd, Buffer.from(`${JSON.stringify(record)}\n`));
    fdatasyncSync(this.#fd);
  }

  /** Closes the file (a later {@link append} reopens it). */
  close(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }
}
