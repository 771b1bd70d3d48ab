/**
 * Creating a run's files: never over an existing one.
 *
 * @module
 */
import { closeSync, openSync, rmSync } from 'node:fs';
import type { WriterProperties } from 'parquet-wasm';
import { parquet } from '../store/parquet';
import { FrameworkError } from '../core/errors';
import { codecTable, type TableColumn } from '../store/arrow-columns';
import { writeAll } from '../store/durable';

/**
 * Creates a new run artifact for writing and returns its file descriptor; never opens an existing file.
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} when `path` exists (it is left as it is); other
 *   file-system errors propagate.
 */
export function createArtifact(path: string): number {
  try {
    return openSync(path, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new FrameworkError(`run artifact ${path} already exists: refusing to overwrite it`, { cause: error });
    }
    throw error;
  }
}

/**
 * Writes a new run artifact whole: `data` (text as UTF-8) to the new file `path`.
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} when `path` exists (it is left as it is); other
 *   file-system errors propagate, and the file begun is removed.
 */
export function writeArtifact(path: string, data: Uint8Array | string): void {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const fd = createArtifact(path);
  try {
    writeAll(fd, bytes);
  } catch (error) {
    rmSync(path, { force: true });
    throw error;
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes the columns (each `length` rows) as the new Parquet file `path`, whole (a run's signals or trades: tens of
 * thousands of rows at most). The file is created once the codec has encoded them.
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} when `path` exists (nothing is overwritten); codec
 *   errors (no file is created) and file-system errors (the file begun is removed) propagate.
 */
export function writeParquetArtifact(path: string, columns: readonly TableColumn[], length: number, properties: WriterProperties): void {
  const table = codecTable(columns.map(([field]) => field), columns.map(([, data]) => data), length);
  writeArtifact(path, parquet.writeParquet(table, properties));
}
