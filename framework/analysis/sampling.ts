/**
 * `count` whole numbers spread evenly over `[from, to]`, both ends included when `count ≥ 2`, ascending and without
 * repeats (fewer than `count` when the range holds fewer whole numbers). `count = 1` gives `[to]`; `count = 0` or an
 * empty range (`to < from`) gives `[]`.
 */
export function evenlySpaced(from: number, to: number, count: number): number[] {
  if (count <= 0 || to < from) return [];
  if (count === 1) return [to];
  const out = new Set<number>();
  for (let j = 0; j < count; j++) out.add(from + Math.round((j * (to - from)) / (count - 1)));
  return [...out];
}
