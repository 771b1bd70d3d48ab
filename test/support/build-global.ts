/**
 * Vitest global set-up: makes the framework's build (`bin/build.mjs`) once before any test file starts, so that the
 * commands the tests start at once (`bin/run.mjs`, the npm scripts) find it ready instead of each building it.
 */
import { ensureBuild } from '../../bin/build.mjs';

export default async function setup(): Promise<void> {
  await ensureBuild();
}
