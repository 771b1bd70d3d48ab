import { describe, expect, it } from 'vitest';
import { parseSignal, signalSchema } from '../../framework/strategy/signal';

/** What zod alone makes of `value`: the parsed signal, or that it throws. */
const byZod = (value: unknown): { signal: unknown } | 'throws' => {
  const result = signalSchema.safeParse(value);
  return result.success ? { signal: result.data } : 'throws';
};
const byParseSignal = (value: unknown): { signal: unknown } | 'throws' => {
  try {
    return { signal: parseSignal(value) };
  } catch {
    return 'throws';
  }
};

class Custom {
  readonly action = 'enter_long';
}

/** Signals as strategies return them, valid and not, near every bound of the schema. */
const CASES: readonly unknown[] = [
  { action: 'enter_long' },
  { action: 'exit_long', tag: 'macd_cross_down' },
  { tag: 'macd_cross_up', action: 'enter_long' },
  { action: 'enter_short', size: { fraction: 1 }, stopLoss: 0.02, takeProfit: 0.05, add: true, tag: 'x' },
  { takeProfit: 3, add: false, action: 'exit_short', size: { quote: 250 }, stopLoss: 0.999 },
  { action: 'exit_long', size: { fraction: 0.25 } },
  { action: 'enter_long', tag: undefined, size: undefined, add: undefined, stopLoss: undefined, takeProfit: undefined },
  { action: 'enter_long', tag: 'a'.repeat(200) },
  { action: 'enter_long', tag: 'a'.repeat(201) },
  { action: 'enter_long', tag: 5 },
  { action: 'buy' },
  {},
  { action: 'enter_long', extra: 1 },
  { action: 'enter_long', size: { fraction: 0 } },
  { action: 'enter_long', size: { fraction: 1.5 } },
  { action: 'enter_long', size: { fraction: Number.NaN } },
  { action: 'enter_long', size: { quote: 0 } },
  { action: 'enter_long', size: { quote: Number.POSITIVE_INFINITY } },
  { action: 'enter_long', size: { fraction: 0.5, quote: 10 } },
  { action: 'enter_long', size: { fraction: 0.5, extra: 1 } },
  { action: 'enter_long', size: 0.5 },
  { action: 'enter_long', size: null },
  { action: 'enter_long', stopLoss: 1 },
  { action: 'enter_long', stopLoss: 0 },
  { action: 'enter_long', stopLoss: Number.NaN },
  { action: 'enter_long', takeProfit: Number.POSITIVE_INFINITY },
  { action: 'enter_long', takeProfit: -1 },
  { action: 'enter_long', add: 'yes' },
  { action: 'enter_long', add: null },
  new Custom(),
  Object.create({ action: 'enter_long' }),
  Object.assign(Object.create(null), { action: 'enter_long' }),
  'enter_long',
  ['enter_long'],
  42,
];

describe('parseSignal', () => {
  it.each(CASES.map((value, i) => [i, value] as const))('case %i: gives what zod gives (same keys in the same order), or throws as it does', (_, value) => {
    const expected = byZod(value);
    const got = byParseSignal(value);
    expect(got).toStrictEqual(expected);
    if (expected !== 'throws' && got !== 'throws') {
      expect(Reflect.ownKeys(got.signal as object)).toEqual(Reflect.ownKeys(expected.signal as object));
      expect(got.signal).not.toBe(value); // a copy, as zod's: the strategy may reuse its object
    }
  });

  it('copies the size too, as zod does', () => {
    const size = { fraction: 0.5 };
    const signal = parseSignal({ action: 'enter_long', size });
    expect(signal?.size).toEqual(size);
    expect(signal?.size).not.toBe(size);
  });

  it('reads no signal from undefined or null', () => {
    expect(parseSignal(undefined)).toBeNull();
    expect(parseSignal(null)).toBeNull();
  });

  it('explains a malformed signal in one line', () => {
    expect(() => parseSignal({ action: 'enter_long', size: { fraction: 2 } })).toThrow(/^malformed signal .*size.*: /);
  });
});
