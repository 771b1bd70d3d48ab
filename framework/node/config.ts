/**
 * A trading node's configuration: which strategies it runs and how. Written as YAML (`node.yaml`) or as a TypeScript
 * module whose default export is the same object (`node.config.ts`), and validated in full before anything starts:
 * every problem is one line naming the file, the field's path, what was found and what is allowed.
 *
 * ```yaml
 * bus: in-process            # or amqp://guest:guest@127.0.0.1:5672
 * strategies:
 *   - id: macd-fast          # unique; names the journal, the run folder and the worker's queue
 *     file: strategies/macd.ts
 *     params: { fast: 8 }    # overrides of the strategy's defaults
 *     mode: paper            # or real (orders on the exchange; keys from the environment)
 *     allocation: { quote: 5000 }   # capital in quote currency, or { fraction: 0.25 } of the account
 *   - id: macd-slow
 *     file: strategies/macd.ts
 *     params: { fast: 20, slow: 50 }
 *     enabled: false
 * ```
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from '../core/zod';
import { FrameworkError, messageOf } from '../core/errors';
import { importTypeScript } from '../core/runtime';

const ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Zod schema of one strategy of a node (see {@link NodeStrategy}). */
export const strategySchema = z.strictObject({
  id: z.string().regex(ID, 'an id is 1-63 lower-case letters, digits, "-" or "_", starting with a letter or digit'),
  file: z.string().min(1),
  params: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).default({}),
  enabled: z.boolean().default(true),
  mode: z.enum(['paper', 'real']).default('paper'),
  allocation: z.union([z.strictObject({ quote: z.number().positive() }), z.strictObject({ fraction: z.number().gt(0).lte(1) })]),
  heapMb: z.number().int().min(32).max(16_384).default(512),
});

/** Zod schema of a node configuration (see {@link NodeConfig}): the strategies, unique ids, fractions adding up to at most 1. */
export const nodeSchema = z
  .strictObject({
    bus: z
      .string()
      .refine((v) => v === 'in-process' || /^amqps?:\/\//.test(v), 'expected "in-process" or an amqp:// URL')
      .default('in-process'),
    strategies: z.array(strategySchema).min(1, 'a node runs at least one strategy'),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.strategies.forEach((s, i) => {
      if (seen.has(s.id)) ctx.addIssue({ code: 'custom', path: ['strategies', i, 'id'], message: `"${s.id}" is used by an earlier strategy: ids must be unique` });
      seen.add(s.id);
    });
    const fractions = config.strategies.filter((s) => s.enabled).reduce((sum, s) => sum + ('fraction' in s.allocation ? s.allocation.fraction : 0), 0);
    if (fractions > 1 + 1e-12) {
      ctx.addIssue({ code: 'custom', path: ['strategies'], message: `the enabled strategies' fractions add up to ${fractions}: at most 1` });
    }
  });

/** One strategy of a node (defaults applied): see the module description. */
export type NodeStrategy = z.output<typeof strategySchema>;

/** A validated node configuration (defaults applied). */
export type NodeConfig = z.output<typeof nodeSchema>;

/**
 * Validates a configuration object.
 *
 * @param where - the file it came from, for messages.
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} listing every problem, one per line:
 *   `node.yaml: strategies.1.allocation: expected { quote: > 0 } or { fraction: (0, 1] }`.
 */
export function parseNodeConfig(value: unknown, where: string): NodeConfig {
  const result = nodeSchema.safeParse(value);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `${where}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  throw new FrameworkError(lines.join('\n'));
}

/**
 * Reads and validates a node configuration: `.yaml`/`.yml` files are YAML, `.ts`/`.js`/`.mjs` modules export the
 * object as their default export.
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} when the file is missing, unreadable, not valid YAML,
 *   has another extension, or fails validation (see {@link parseNodeConfig}).
 */
export async function loadNodeConfig(file: string): Promise<NodeConfig> {
  const extension = extname(file).toLowerCase();
  let value: unknown;
  try {
    if (extension === '.yaml' || extension === '.yml') value = parseYaml(readFileSync(file, 'utf8'));
    else if (['.ts', '.js', '.mjs'].includes(extension)) value = (await importTypeScript(resolve(file)))['default'];
    else throw new Error(`expected a .yaml, .yml, .ts, .js or .mjs file, got "${extension || 'no extension'}"`);
  } catch (error) {
    throw new FrameworkError(`${file}: cannot read the node configuration: ${messageOf(error).split('\n')[0]}`, { cause: error });
  }
  return parseNodeConfig(value, file);
}

/** The paper account's cash when `--cash` is not given (quote currency), as the paper broker's default. */
export const DEFAULT_ACCOUNT_CASH = 10_000;

/**
 * A strategy's initial cash (quote currency): its allocation, a fixed amount or a fraction of the account's `cash`
 * (quote currency).
 */
export function strategyCash(s: NodeStrategy, cash: number): number {
  return 'quote' in s.allocation ? s.allocation.quote : s.allocation.fraction * cash;
}
