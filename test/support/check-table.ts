/** Reading the tables `npm run check` prints. */
import { expect } from 'vitest';

/** The cells of the row for column `name` in the lookahead table (`table` 0) or the warm-up table (1) of `stdout`. */
export function checkRow(stdout: string, name: string, table: 0 | 1): string[] {
  const line = stdout.split('\n').filter((l) => l.startsWith(`│ ${name} `))[table];
  expect(line, `a row for ${name}`).toBeDefined();
  return line!.split('│').slice(1, -1).map((cell) => cell.trim());
}
