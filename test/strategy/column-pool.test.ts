import { describe, expect, it } from 'vitest';
import { ColumnPool, newColumn } from '../../framework/strategy/column-pool';

describe('newColumn and the column pool', () => {
  it('gives new arrays of zeros outside a lending pool', () => {
    const [a, b] = [newColumn(3), newColumn(3)];
    expect(Array.from(a)).toEqual([0, 0, 0]);
    expect(a.buffer).not.toBe(b.buffer);
  });

  it('lends distinct columns until reclaimed, then the same memory again, and a shorter one as a view of a longer one', () => {
    const pool = new ColumnPool();
    const [a, b] = pool.lend(() => [newColumn(4), newColumn(4)]);
    expect(a!.buffer).not.toBe(b!.buffer);
    a!.fill(7);
    const c = pool.lend(() => newColumn(4)); // a and b are still lent: a new array
    expect([a!.buffer, b!.buffer]).not.toContain(c.buffer);
    pool.reclaim();
    const outside = newColumn(4); // the pool lends only inside lend(): a new array, not a reclaimed one
    expect([a!.buffer, b!.buffer, c.buffer]).not.toContain(outside.buffer);
    expect(Array.from(outside)).toEqual([0, 0, 0, 0]);
    const again = pool.lend(() => [newColumn(4), newColumn(4), newColumn(2)]);
    expect(new Set(again.map((x) => x.buffer))).toEqual(new Set([a!.buffer, b!.buffer, c.buffer]));
    expect(again.map((x) => x.length)).toEqual([4, 4, 2]);
    expect(again.some((x) => x.length === 4 && x[0] === 7)).toBe(true); // recycled as it was left
  });
});
