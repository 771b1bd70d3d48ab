import { createHash } from 'node:crypto';
import type { ParameterValue, StrategyParameters } from './base-strategy';

/**
 * A short, stable fingerprint of a strategy's parameter values: the first 16 hex digits of the SHA-256 of their JSON
 * with keys in sorted order. Two runs with the same hash used the same parameters.
 */
export function hashParameters(parameters: Readonly<StrategyParameters>): string {
  const canonical = JSON.stringify(Object.keys(parameters).sort().map((key) => [key, parameters[key]]));
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

/** Whole numbers from `low` to `high` inclusive, every `step` from `low` (`{ kind: 'int', low: 10, high: 60, step: 2 }`). */
export interface IntRange {
  readonly kind: 'int';
  readonly low: number;
  readonly high: number;
  readonly step: number;
}

/** Real numbers in [`low`, `high`]; with `step`, only `low + k × step`; with `log`, sampled uniformly in log space. */
export interface FloatRange {
  readonly kind: 'float';
  readonly low: number;
  readonly high: number;
  readonly step?: number;
  readonly log: boolean;
}

/** One of a list of values (numbers, strings or booleans), unordered. */
export interface ChoiceRange {
  readonly kind: 'choice';
  readonly choices: readonly ParameterValue[];
}

/** The values a parameter may take: what `--param` accepts and what `npm run optimize` searches. */
export type ParameterRange = IntRange | FloatRange | ChoiceRange;

/** A strategy's search space: parameter names to their ranges (a subset of its `params`). */
export type SearchSpace = Readonly<Record<string, ParameterRange>>;

/**
 * An integer parameter in [`low`, `high`] (inclusive), every `step` (default 1) from `low`, e.g. `int(4, 30)` or
 * `int(10, 60, { step: 2 })`.
 *
 * @throws RangeError when the bounds or the step are not whole numbers, `low > high`, or `step < 1`.
 */
export function int(low: number, high: number, options: { readonly step?: number } = {}): IntRange {
  const step = options.step ?? 1;
  if (![low, high, step].every(Number.isInteger) || low > high || step < 1) {
    throw new RangeError(`int(${low}, ${high}, step ${step}): bounds must be whole numbers with low ≤ high and step ≥ 1`);
  }
  return { kind: 'int', low, high, step };
}

/**
 * A real parameter in [`low`, `high`], e.g. `float(0.01, 0.1, { log: true })` for a stop-loss fraction; with `step`, only
 * multiples of it from `low`.
 *
 * @throws RangeError when a bound is not finite, `low > high`, `step ≤ 0`, or `log` with `low ≤ 0`.
 */
export function float(low: number, high: number, options: { readonly step?: number; readonly log?: boolean } = {}): FloatRange {
  const log = options.log ?? false;
  if (!Number.isFinite(low) || !Number.isFinite(high) || low > high || (options.step !== undefined && !(options.step > 0)) || (log && low <= 0)) {
    throw new RangeError(`float(${low}, ${high}): bounds must be finite with low ≤ high, step > 0, and low > 0 with log`);
  }
  return { kind: 'float', low, high, log, ...(options.step !== undefined && { step: options.step }) };
}

/**
 * A parameter taking one of `choices`, e.g. `choice([5, 9, 12])`.
 *
 * @throws RangeError when `choices` is empty.
 */
export function choice(choices: readonly ParameterValue[]): ChoiceRange {
  if (choices.length === 0) throw new RangeError('choice([]): give at least one value');
  return { kind: 'choice', choices: [...choices] };
}

/** The range in words, for messages: `a whole number from 4 to 30`, `one of 5, 9, 12`. */
export function describeRange(range: ParameterRange): string {
  switch (range.kind) {
    case 'int':
      return `a whole number from ${range.low} to ${range.high}${range.step > 1 ? ` in steps of ${range.step}` : ''}`;
    case 'float':
      return `a number from ${range.low} to ${range.high}${range.step !== undefined ? ` in steps of ${range.step}` : ''}`;
    case 'choice':
      return `one of ${range.choices.map(String).join(', ')}`;
  }
}

/** Whether `value` lies in `range` (an int on its step grid; a float step allows 1e-9 of rounding). */
export function inRange(value: ParameterValue, range: ParameterRange): boolean {
  if (range.kind === 'choice') return range.choices.includes(value);
  if (typeof value !== 'number' || value < range.low || value > range.high) return false;
  if (range.kind === 'int') return Number.isInteger(value) && (value - range.low) % range.step === 0;
  if (range.step === undefined) return true;
  const k = (value - range.low) / range.step;
  return Math.abs(k - Math.round(k)) < 1e-9;
}

/**
 * The value at `u` ∈ [0, 1) of the unit interval mapped onto `range`: int and choice ranges split it into equal
 * cells, one per allowed value; a float range maps it linearly (or log-linearly), then onto its step grid.
 */
export function valueAt(range: ParameterRange, u: number): ParameterValue {
  const cell = (count: number) => Math.min(count - 1, Math.floor(u * count));
  switch (range.kind) {
    case 'int':
      return range.low + cell(Math.floor((range.high - range.low) / range.step) + 1) * range.step;
    case 'choice':
      return range.choices[cell(range.choices.length)]!;
    case 'float': {
      const x = range.log ? Math.exp(Math.log(range.low) + u * (Math.log(range.high) - Math.log(range.low))) : range.low + u * (range.high - range.low);
      if (range.step === undefined) return x;
      return Math.min(range.high, range.low + Math.round((x - range.low) / range.step) * range.step);
    }
  }
}

/**
 * How many distinct values a grid search tries for a range: every value of an int or choice range, a float range's
 * step grid, or `points` cells of a float range without a step. Grid point k of that count sits at `u = (k + 0.5) / count`
 * of {@link valueAt}.
 */
export function gridLevels(range: ParameterRange, points: number): number {
  switch (range.kind) {
    case 'choice':
      return range.choices.length;
    case 'int':
      return Math.floor((range.high - range.low) / range.step) + 1;
    case 'float':
      return range.step !== undefined ? Math.floor((range.high - range.low) / range.step + 1e-9) + 1 : points;
  }
}

/**
 * Parses a command-line range for `name` of the form the declared range has:
 * `5..20` or `10..60:2` (int; `:step`), `0.01..0.1` or `0.01..0.1:0.01` (float; `log` kept from the declaration),
 * `5,9,12` (choice, or any parameter: a list of values of its default's type).
 *
 * @param declared - the strategy's range for `name`, or undefined when it declares none.
 * @param current - the parameter's default, whose type a value must have.
 * @returns the range, or a one-line problem naming what is allowed.
 */
export function parseRange(
  name: string,
  text: string,
  declared: ParameterRange | undefined,
  current: ParameterValue,
): ParameterRange | string {
  const span = /^(-?[\d.eE+-]+)\.\.(-?[\d.eE+-]+)(?::([\d.eE+-]+))?$/.exec(text.trim());
  const bad = `--space ${name}=${text}: expected low..high, low..high:step or a list a,b,c`;
  if (span !== null) {
    const [low, high, step] = [Number(span[1]), Number(span[2]), span[3] === undefined ? undefined : Number(span[3])];
    if (typeof current !== 'number' || !Number.isFinite(low) || !Number.isFinite(high)) return `${bad}; a range needs a numeric parameter`;
    const whole = declared === undefined ? Number.isInteger(current) : declared.kind === 'int';
    try {
      if (whole) return int(low, high, step === undefined ? {} : { step });
      const log = declared?.kind === 'float' && declared.log;
      return float(low, high, { log, ...(step !== undefined && { step }) });
    } catch (error) {
      return `--space ${name}=${text}: ${(error as Error).message}`;
    }
  }
  const values: ParameterValue[] = [];
  for (const part of text.split(',')) {
    const value = parseValue(part.trim(), current);
    if (value === null) return `${bad}; "${part}" is not a ${typeof current} like the default ${String(current)}`;
    values.push(value);
  }
  return choice(values);
}

/** `text` as a value of `current`'s type, or null when it is not one. */
export function parseValue(text: string, current: ParameterValue): ParameterValue | null {
  if (typeof current === 'number') {
    const value = Number(text);
    return Number.isFinite(value) && text.trim() !== '' ? value : null;
  }
  if (typeof current === 'boolean') return text === 'true' ? true : text === 'false' ? false : null;
  return text;
}
