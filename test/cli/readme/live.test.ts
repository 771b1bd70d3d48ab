/**
 * README.md's live, simulator, diff and check commands, then its trading-node command and the diff of the node's runs,
 * as written, in README order (test/support/readme.ts): in one file, one after the other, because the live run and the
 * node both write the simulator's store `live-data/sim/`, which one process writes at a time. What `npm run check`
 * prints for the shipped MACD is checked on the README's own run of it.
 */
import { expect, it } from 'vitest';
import { checkRow } from '../../support/check-table';
import { runReadmeGroup } from '../../support/readme';

const outcomes = runReadmeGroup('live');
runReadmeGroup('node');

it('npm run check -- strategies/macd.ts finds no lookahead in the shipped MACD and passes on its warm-up', () => {
  const shipped = outcomes.get('npm run check -- strategies/macd.ts');
  expect(shipped?.code, 'the README command npm run check -- strategies/macd.ts ran above and exited 0').toBe(0);
  for (const name of ['macd', 'macd_signal', 'macd_hist']) {
    expect(checkRow(shipped!.stdout, name, 0)[1]).toBe('ok');
    expect(checkRow(shipped!.stdout, name, 1)[3]).toBe('enough');
  }
  expect(shipped!.stdout).toContain('no lookahead bias found');
});
