/**
 * The known gaps of an exchange's candles (maintenance windows, outages), committed with the datasets as
 * `<root>/<exchange>/known-gaps.json`:
 *
 * ```json
 * [{ "from": "2021-04-25T04:00:00Z", "to": "2021-04-25T08:45:00Z", "note": "Binance spot maintenance" }]
 * ```
 *
 * `from` is inclusive, `to` exclusive, both UTC ISO 8601 (or epoch ms). They apply to every symbol and timeframe of the
 * exchange. `data verify` and the backtest's gap policy accept a gap that lies inside one.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from '../core/zod';
import { CorruptDataError, messageOf } from '../core/errors';
import { toEpochMs } from '../core/time';
import type { KnownGap } from '../pipeline/gap-policy';

/** The file name of an exchange's known gaps, inside `<root>/<exchange>/`. */
export const KNOWN_GAPS_FILE = 'known-gaps.json';

const time = z.union([z.string(), z.number()]).transform((value, context) => {
  try {
    return toEpochMs(value);
  } catch (error) {
    context.addIssue({ code: 'custom', message: messageOf(error) });
    return z.NEVER;
  }
});

const fileSchema = z.array(z.strictObject({ from: time, to: time, note: z.string() }));

/**
 * Reads the known gaps of `exchange` under the store `root`.
 *
 * @returns the known gaps, `[]` when the exchange has no such file.
 * @throws {@link "core/errors"!CorruptDataError | CorruptDataError} naming the file and the entry for a file that is
 *   not such a list, or an entry whose `from` is not before its `to`.
 */
export function readKnownGaps(root: string, exchange: string): KnownGap[] {
  const file = path.join(root, exchange, KNOWN_GAPS_FILE);
  if (!existsSync(file)) return [];
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CorruptDataError(`${file}: not JSON: ${messageOf(error)}`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CorruptDataError(
      `${file}: entry ${issue.path.join('.')}: ${issue.message}; expected [{ "from": ISO time, "to": ISO time, "note": text }]`,
    );
  }
  parsed.data.forEach((g, i) => {
    if (g.from >= g.to) throw new CorruptDataError(`${file}: entry ${i}: "from" must be before "to"`);
  });
  return parsed.data;
}
