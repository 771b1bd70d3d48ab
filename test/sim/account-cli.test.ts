import { spawn } from 'node:child_process';
import type { Exchange } from 'ccxt';
import { describe, expect, it } from 'vitest';
import { createExchange } from '../../framework/feeds/live/exchange';

/** The account's total holding of `asset` as ccxt's fetchBalance reports it. */
async function held(ex: Exchange, asset: string): Promise<number | undefined> {
  return (await ex.fetchBalance())[asset]?.total;
}

const KEY = { apiKey: 'cli-key-0e4d7a91c3', secret: 'cli-secret-b85f2c6e19d4' };

describe('npm run sim with an account (a person trading on it from another process)', () => {
  it('serves signed orders for the key in the environment, and never prints or logs the key or the secret', async () => {
    const child = spawn(
      process.execPath,
      ['bin/run.mjs', 'framework/cli/sim.ts', '--dataset', 'binance/BTC_USDT/1h', '--speed', '0', '--start', '2021-03-01T10:30',
        '--port', '0', '--balances', 'USDT=1000,BTC=0.5', '--verbose'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CANDLECRAFT_API_KEY: KEY.apiKey, CANDLECRAFT_API_SECRET: KEY.secret } },
    );
    let output = '';
    child.stderr.on('data', (d) => (output += String(d)));
    const restUrl = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        output += String(d);
        const match = /REST (http:\/\/127\.0\.0\.1:\d+)\/api\/v3/.exec(output);
        if (match !== null && output.includes('account:')) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`sim CLI exited early (${code}): ${output}`)));
    });
    expect(output).toContain('account: signed endpoints for the key in CANDLECRAFT_API_KEY; balances USDT 1000, BTC 0.5; commission 0.001');
    const ex = createExchange('binance', { urls: { restUrl, wsUrl: restUrl.replace('http', 'ws') + '/ws' }, enableRateLimit: false, credentials: KEY }) as unknown as Exchange;
    try {
      const sold = await ex.createOrder('BTC/USDT', 'market', 'sell', 0.1, undefined, { clientOrderId: 'by-hand-1' });
      expect(sold).toMatchObject({ status: 'closed', filled: 0.1 });
      expect(await held(ex, 'BTC')).toBe(0.4);
    } finally {
      await ex.close();
    }
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('simulator stopped');
    expect(output.includes(KEY.apiKey)).toBe(false);
    expect(output.includes(KEY.secret)).toBe(false);
  });
});
