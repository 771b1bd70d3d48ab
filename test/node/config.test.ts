import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNodeConfig } from '../../framework/node/config';

const dir = mkdtempSync(join(tmpdir(), 'node-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('loadNodeConfig', () => {
  it('reads a YAML node with two instances of one strategy file, applying the defaults', async () => {
    const path = file(
      'node.yaml',
      [
        'strategies:',
        '  - { id: macd-fast, file: strategies/macd.ts, params: { fast: 8 }, allocation: { quote: 5000 } }',
        '  - { id: macd-slow, file: strategies/macd.ts, params: { fast: 20, slow: 50 }, allocation: { fraction: 0.5 }, mode: real }',
      ].join('\n'),
    );
    expect(await loadNodeConfig(path)).toEqual({
      bus: 'in-process',
      strategies: [
        { id: 'macd-fast', file: 'strategies/macd.ts', params: { fast: 8 }, enabled: true, mode: 'paper', allocation: { quote: 5000 }, heapMb: 512 },
        { id: 'macd-slow', file: 'strategies/macd.ts', params: { fast: 20, slow: 50 }, enabled: true, mode: 'real', allocation: { fraction: 0.5 }, heapMb: 512 },
      ],
    });
  });

  it('reads a TypeScript node config (its default export)', async () => {
    const path = file(
      'node.config.ts',
      "export default { bus: 'amqp://guest:guest@127.0.0.1:5672', strategies: [{ id: 'dca', file: 'strategies/dca.ts', allocation: { quote: 1000 } }] };\n",
    );
    const config = await loadNodeConfig(path);
    expect(config.bus).toBe('amqp://guest:guest@127.0.0.1:5672');
    expect(config.strategies.map((s) => s.id)).toEqual(['dca']);
  });

  it('names every problem with its file and field, one line each', async () => {
    const path = file(
      'bad.yaml',
      [
        'bus: rabbit',
        'strategies:',
        '  - { id: Macd, file: strategies/macd.ts, allocation: { quote: -5 } }',
        '  - { id: dup, file: strategies/macd.ts, allocation: { fraction: 0.7 } }',
        '  - { id: dup, file: strategies/macd.ts, allocation: { fraction: 0.6 }, colour: red }',
      ].join('\n'),
    );
    const error = await loadNodeConfig(path).then(() => null, (e: Error) => e);
    const lines = error!.message.split('\n');
    expect(lines.every((l) => l.startsWith(`${path}: `))).toBe(true);
    expect(lines).toContain(`${path}: bus: expected "in-process" or an amqp:// URL`);
    expect(lines.some((l) => l.startsWith(`${path}: strategies.0.id: an id is 1-63 lower-case letters`))).toBe(true);
    expect(lines).toContain(`${path}: strategies.0.allocation.quote: Too small: expected number to be >0`);
    expect(lines).toContain(`${path}: strategies.2: Unrecognized key: "colour"`);
  });

  it('refuses duplicate ids and fractions that add up to more than the account', async () => {
    const path = file(
      'over.yaml',
      [
        'strategies:',
        '  - { id: a, file: strategies/macd.ts, allocation: { fraction: 0.7 } }',
        '  - { id: a, file: strategies/macd.ts, allocation: { fraction: 0.6 } }',
      ].join('\n'),
    );
    const message = await loadNodeConfig(path).then(() => '', (e: Error) => e.message);
    expect(message).toContain(`${path}: strategies.1.id: "a" is used by an earlier strategy: ids must be unique`);
    expect(message).toContain(`${path}: strategies: the enabled strategies' fractions add up to 1.2999999999999998: at most 1`);
  });

  it('says which file cannot be read and why', async () => {
    await expect(loadNodeConfig(join(dir, 'missing.yaml'))).rejects.toThrow(/missing\.yaml: cannot read the node configuration: ENOENT/);
    await expect(loadNodeConfig(file('node.json', '{}'))).rejects.toThrow(/expected a \.yaml, \.yml, \.ts, \.js or \.mjs file, got "\.json"/);
    await expect(loadNodeConfig(file('broken.yaml', 'strategies: [ {'))).rejects.toThrow(/broken\.yaml: cannot read the node configuration/);
  });
});
