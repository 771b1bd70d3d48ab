/**
 * framework/core/ccxt.ts loads the ccxt.pro Binance class and the error classes from ccxt's own files, without its other
 * exchanges; the whole module, loaded later in the same process (a download from another exchange), must hold the very
 * same classes, or `instanceof` on an error and the kline tap's `extends` would see two copies (seen red with the
 * errors module dropped from the require cache after loading it).
 */
import { describe, expect, it } from 'vitest';
import { loadCcxt, NetworkError, OrderNotFound, pro, RateLimitExceeded } from '../../framework/core/ccxt';

describe('core/ccxt', () => {
  it('gives the classes the whole ccxt module has, one copy of each', () => {
    const ccxt = loadCcxt();
    expect(ccxt.exchanges).toContain('kraken');
    expect(pro.binance).toBe(ccxt.pro.binance);
    expect(NetworkError).toBe(ccxt.NetworkError);
    expect(OrderNotFound).toBe(ccxt.OrderNotFound);
    expect(new RateLimitExceeded('429')).toBeInstanceOf(ccxt.NetworkError);
  });
});
