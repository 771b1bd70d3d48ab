import { describe, expect, it } from 'vitest';
import { StrategyLoadError } from '../../framework/core/errors';
import { loadStrategy } from '../../framework/strategy/loader';

const fixture = (name: string) => `test/fixtures/strategies/${name}`;

async function loadError(file: string, params: Record<string, string> = {}): Promise<StrategyLoadError> {
  const error = await loadStrategy(file, params).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StrategyLoadError);
  return error as StrategyLoadError;
}

describe('loadStrategy', () => {
  it('loads the shipped strategies with their subscriptions', async () => {
    const macd = await loadStrategy('strategies/macd.ts');
    expect(macd.strategy.name).toBe('macd');
    expect(macd.subscriptions).toEqual([{ exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' }]);
    const rsi = await loadStrategy('strategies/rsi-mean-reversion.ts');
    expect(rsi.subscriptions[0]).toEqual({ exchange: 'binance', symbol: 'ETH/USDT', timeframe: '1h' });
    const ema = await loadStrategy('strategies/ema-cross.ts');
    expect(ema.strategy.warmup).toBe(200);
  });

  it('applies parameter overrides with the default type', async () => {
    const { strategy } = await loadStrategy('strategies/macd.ts', { fast: '10' });
    expect(strategy.params).toEqual({ fast: 10, slow: 26, signal: 9 });
  });

  it('names the file when it does not exist', async () => {
    const error = await loadError('strategies/nope.ts');
    expect(error.message).toBe('strategies/nope.ts: file not found');
  });

  it('names the file and the parse problem when the module cannot be imported', async () => {
    const error = await loadError(fixture('syntax-error.ts'));
    expect(error.message).toMatch(/^test\/fixtures\/strategies\/syntax-error\.ts: cannot import the module: /);
  });

  it('says what is exported when there is no strategy class', async () => {
    const error = await loadError(fixture('no-class.ts'));
    expect(error.message).toContain('no-class.ts: exports no class extending BaseStrategy (exports: answer)');
  });

  it('names a missing method', async () => {
    const error = await loadError(fixture('missing-method.ts'));
    expect(error.message).toBe(
      `${fixture('missing-method.ts')}: class MissingOnData does not implement onData(candle, frame)`,
    );
  });

  it('explains a malformed subscription', async () => {
    const error = await loadError(fixture('bad-subscription.ts'));
    expect(error.message).toContain('bad-subscription.ts: getRequiredSubscriptions() must return');
    expect(error.message).toContain('0.symbol: a unified symbol such as "BTC/USDT"');
    expect(error.message).toContain('0.timeframe: a timeframe such as "15m" or "1h"');
  });

  it('rejects unknown and ill-typed parameters', async () => {
    expect((await loadError('strategies/macd.ts', { fastt: '3' })).message).toBe(
      'strategies/macd.ts: unknown parameter "fastt"; parameters are: fast, slow, signal',
    );
    expect((await loadError('strategies/macd.ts', { fast: 'ten' })).message).toBe(
      'strategies/macd.ts: parameter "fast" must be a number, got "ten"',
    );
  });
});
