/**
 * README.md's live, simulator, diff and check commands, as written, in README order (test/support/readme.ts); what
 * `npm run check` prints for the shipped MACD is checked on the README's own run of it.
 */
import { expect, it } from 'vitest';
import { checkRow } from '../../support/check-table';
import { runReadmeGroup } from '../../support/readme';

const outcomes = runReadmeGroup('live');

it('npm run check -- strategies/macd.ts finds no lookahead in the shipped MACD and passes on its warm-up', () => {
  const shipped = outcomes.get('npm run check -- strategies/macd.ts');
  expect(shipped?.code, 'the README command npm run check -- strategies/macd.ts ran above and exited 0').toBe(0);
  for (const name of ['macd', 'macd_signal', 'macd_hist']) {
    expect(checkRow(shipped!.stdout, name, 0)[1]).toBe('ok');
    expect(checkRow(shipped!.stdout, name, 1)[3]).toBe('enough');
  }
  expect(shipped!.stdout).toContain('no lookahead bias found');
});
