import { createHash } from 'node:crypto';
import type { StrategyParameters } from './base-strategy';

/**
 * A short, stable fingerprint of a strategy's parameter values: the first 16 hex digits of the SHA-256 of their JSON
 * with keys in sorted order. Two runs with the same hash used the same parameters.
 */
export function hashParameters(parameters: Readonly<StrategyParameters>): string {
  const canonical = JSON.stringify(Object.keys(parameters).sort().map((key) => [key, parameters[key]]));
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}
