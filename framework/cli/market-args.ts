/**
 * The market-data options shared by `npm run live` and `npm run node`: where the candles come from (the exchange or
 * the project's simulator, with its speed, start and faults), when to stop, and the stale-candle limit.
 *
 * @module
 */
import { z } from '../core/zod';
import { FAULT_KINDS } from '../sim/config';
import { choiceArg, choiceListArg, dateArg, httpUrlArg, numberArg } from './args';

/** `binance`: the exchange's public market data; `sim`: the project's simulator, started in this process. */
export const LIVE_EXCHANGES = ['binance', 'sim'] as const;

/** Zod fields of the shared options (see the module description); spread into a command's schema. */
export const liveMarketArgs = {
  exchange: choiceArg(LIVE_EXCHANGES).optional(),
  simUrl: httpUrlArg.optional(),
  speed: numberArg({ what: 'exchange ms per real ms', min: 0, minInclusive: false }),
  start: dateArg,
  faults: choiceListArg(FAULT_KINDS),
  faultRate: numberArg({ what: 'a probability', min: 0, max: 1 }),
  maxCandles: numberArg({ what: 'candles', integer: true, min: 1 }).optional(),
  // `off`: no candle is stale.
  staleAfter: z.union([z.literal('off').transform(() => Number.POSITIVE_INFINITY), numberArg({ what: 'timeframes (e.g. 1, 0.5, 3) or "off"', min: 0, minInclusive: false })]),
};
