/**
 * Creating a run's files: never over an existing one.
 *
 * @module
 */
import { openSync } from 'node:fs';
import { FrameworkError } from '../core/errors';

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
