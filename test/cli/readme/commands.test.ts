/**
 * Every fenced `sh` command of README.md is run exactly as written by one of the files beside this one
 * (test/support/readme.ts's GROUPS, run side by side), or skipped for the reason given in SKIPPED.
 */
import { describe, expect, it } from 'vitest';
import { COMMANDS, commandOf, EXPECTED, GROUPS, SKIPPED } from '../../support/readme';

describe('README.md', () => {
  it('lists each of its commands either as run or as skipped with a reason', () => {
    const listed = COMMANDS.map(commandOf).sort();
    expect(listed).toEqual([...Object.keys(SKIPPED), ...Object.keys(EXPECTED)].sort());
  });

  it('runs each command it does not skip in exactly one group, in README order within the group', () => {
    const grouped: string[] = Object.values(GROUPS).flat();
    expect([...grouped].sort()).toEqual(Object.keys(EXPECTED).sort());
    const order = COMMANDS.map(commandOf);
    for (const members of Object.values(GROUPS)) {
      const positions = members.map((command) => order.indexOf(command));
      expect(positions).toEqual([...positions].sort((a, b) => a - b));
    }
  });
});
