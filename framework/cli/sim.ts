/**
 * `npm run sim`: runs the Binance-compatible exchange simulator on stored datasets until interrupted (Ctrl-C).
 *
 * ```text
 * npm run sim -- --dataset binance/BTC_USDT/15m --speed 600 [--start 2021-06-01] [--port 8765] [--datasets datasets] [--duration 10] \
 *   [--dataset binance/ETH_USDT/15m] [--faults drop,stall,duplicate] [--fault-rate 0.01] [--updates 3] [--seed 1]
 * ```
 *
 * Prints the REST and WebSocket URLs on standard output; logs to standard error, and the fault/frame counters when it
 * stops. Connect ccxt with `connectCcxt` (framework/sim/ccxt-client.ts) or by setting `urls.api.public` and
 * `urls.api.ws.spot` as printed.
 *
 * The account: when `CANDLECRAFT_API_KEY` and `CANDLECRAFT_API_SECRET` are set (the variables `npm run live --
 * --real-orders` reads), the simulator serves its signed account endpoints for that key (balances, orders, my-trades;
 * see framework/sim/orders.ts), starting with `--balances USDT=10000,BTC=0` (default: one million of each quote asset)
 * and charging `--commission` (fraction, default 0.001). A second ccxt client with the same key trades on the same
 * account, e.g. to sell by hand while a run is long. The key and secret are never printed or logged.
 *
 * @module
 */

import { Command, Option } from 'commander';
import { z } from '../core/zod';
import type { FaultConfig, FaultKind, SimulatedMarket } from '../sim/config';
import { FAULT_KINDS } from '../sim/config';
import type { SimulatorAccount } from '../sim/account';
import { createLogger } from '../core/logger';
import type { Subscription } from '../core/subscription';
import { folderToSymbol } from '../store/layout';
import { choiceListArg, collectRepeated, dateArg, numberArg, parseCommandLine, validateOptions } from './args';
import { commonArgs, logLevel, runCommand, withCommonOptions } from './common';

/** The default exchange clock start: 2021-06-01 00:00 UTC, inside every shipped dataset (as `npm run live`'s). */
const DEFAULT_START = '2021-06-01';

/** `USDT=10000,BTC=0.5` → `{ USDT: 10000, BTC: 0.5 }`. */
const balancesArg = z.string().transform((value, context): Record<string, number> => {
  const balances: Record<string, number> = {};
  for (const entry of value.split(',').filter((e) => e !== '')) {
    const [asset, amount, ...rest] = entry.split('=');
    const n = Number(amount);
    if (asset === undefined || !/^[A-Z0-9]+$/.test(asset) || amount === undefined || amount.trim() === '' || !(n >= 0) || rest.length > 0) {
      context.addIssue({ code: 'custom', message: `"${entry}": expected ASSET=amount with amount ≥ 0, e.g. USDT=10000` });
      return z.NEVER;
    }
    balances[asset] = n;
  }
  return balances;
});

/** The account from the environment's API key and secret, or `undefined` when they are not both set. */
function accountFromEnvironment(options: SimOptions): SimulatorAccount | undefined {
  const apiKey = process.env['CANDLECRAFT_API_KEY'] ?? '';
  const secret = process.env['CANDLECRAFT_API_SECRET'] ?? '';
  if (apiKey === '' || secret === '') return undefined;
  return {
    apiKey,
    secret,
    ...(options.balances !== undefined && { balances: options.balances }),
    ...(options.commission !== undefined && { commission: options.commission }),
  };
}

/** `binance/BTC_USDT/15m` → `{ exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' }`. */
const datasetArg = z.string().transform((value, context): Subscription => {
  const [exchange, folder, timeframe, ...rest] = value.split('/');
  const symbol = folder === undefined ? undefined : folderToSymbol(folder);
  if (exchange === undefined || exchange === '' || symbol === undefined || timeframe === undefined || rest.length > 0) {
    context.addIssue({ code: 'custom', message: 'expected <exchange>/<BASE>_<QUOTE>/<timeframe>, e.g. binance/BTC_USDT/15m' });
    return z.NEVER;
  }
  return { exchange, symbol, timeframe };
});

const optionsSchema = z
  .object({
    ...commonArgs,
    dataset: z.array(datasetArg).min(1, 'name at least one dataset, e.g. --dataset binance/BTC_USDT/15m'),
    datasets: z.string(),
    root: z.string().optional(),
    start: dateArg,
    speed: numberArg({ what: 'exchange ms per real ms; 0 = frozen clock', min: 0 }),
    port: numberArg({ what: 'TCP port; 0 = any free port', integer: true, min: 0, max: 65_535 }),
    updates: numberArg({ what: 'frames per candle', integer: true, min: 1 }),
    faults: choiceListArg(FAULT_KINDS),
    faultRate: numberArg({ what: 'a probability', min: 0, max: 1 }),
    seed: numberArg({ what: 'seed', integer: true }),
    duration: numberArg({ what: 'seconds', min: 0, minInclusive: false }).optional(),
    balances: balancesArg.optional(),
    commission: numberArg({ what: 'a fraction of the quote amount', min: 0, max: 1 }).optional(),
  })
  // `--root` is the old name of `--datasets`.
  .transform(({ root, ...options }) => ({ ...options, datasets: root ?? options.datasets }));

type SimOptions = z.output<typeof optionsSchema>;

/** Each listed fault at probability `rate` per opportunity (revision: per candle). */
function faultConfig(kinds: readonly FaultKind[], rate: number): FaultConfig {
  return Object.fromEntries(kinds.map((k) => [k, { rate }])) as FaultConfig;
}

async function run(options: SimOptions): Promise<void> {
  const log = createLogger(logLevel(options));
  // The store (Parquet) and the simulator's servers are loaded only for valid options: a bad value fails without them.
  const [{ readDataset }, { startSimulator }] = await Promise.all([import('../store/partitions'), import('../sim/simulator')]);
  const markets: SimulatedMarket[] = options.dataset.map((s) => ({
    symbol: s.symbol,
    timeframe: s.timeframe,
    candles: readDataset(options.datasets, s),
  }));
  const account = accountFromEnvironment(options);
  const sim = await startSimulator({
    port: options.port,
    markets,
    startTime: options.start,
    speed: options.speed,
    updatesPerCandle: options.updates,
    faults: faultConfig(options.faults, options.faultRate),
    seed: options.seed,
    ...(account !== undefined && { account }),
  });
  const balances = account === undefined ? [] : [...sim.account.balances()].map(([asset, b]) => `${asset} ${b.free}`);
  process.stdout.write(
    [
      `simulator listening: REST ${sim.restUrl}/api/v3  WebSocket ${sim.wsUrl} (combined: ${sim.streamUrl})`,
      `markets: ${markets.map((m) => `${m.symbol} ${m.timeframe} (${m.candles.openTime.length} candles)`).join(', ')}`,
      `clock starts at ${new Date(options.start).toISOString()}, speed ×${options.speed}`,
      `ccxt: ex.urls.api.public = '${sim.restUrl}/api/v3'; ex.urls.api.ws.spot = '${sim.wsUrl}'; await ex.loadHttpProxyAgent()`,
      account === undefined
        ? 'account: none (set CANDLECRAFT_API_KEY and CANDLECRAFT_API_SECRET to serve signed orders)'
        : `account: signed endpoints for the key in CANDLECRAFT_API_KEY; balances ${balances.join(', ')}; commission ${sim.account.commission}`,
      '',
    ].join('\n'),
  );
  const ticker = setInterval(() => log.debug({ clock: new Date(sim.clock()).toISOString(), ...sim.stats }, 'simulator stats'), 5000);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    if (options.duration !== undefined) setTimeout(resolve, options.duration * 1000);
  });
  clearInterval(ticker);
  await sim.stop();
  log.info({ clock: new Date(sim.clock()).toISOString(), ...sim.stats }, 'simulator stopped');
}

const program = withCommonOptions(
  new Command('sim')
    .description('Run the Binance-compatible exchange simulator (REST + WebSocket on 127.0.0.1) on stored datasets')
    .option('-d, --dataset <exchange/BASE_QUOTE/timeframe>', 'dataset to play, repeatable', collectRepeated, [])
    .option('--datasets <dir>', 'candle store root', 'datasets')
    .addOption(new Option('--root <dir>', 'deprecated: the old name of --datasets').hideHelp())
    .option('--start <time>', 'exchange clock start: a UTC date YYYY-MM-DD[THH:MM[:SS]] or epoch ms', DEFAULT_START)
    .option('--speed <n>', 'exchange ms per real ms; 0 = frozen clock', '60')
    .option('--port <n>', 'TCP port; 0 = any free port', '8765')
    .option('--updates <n>', 'forming-candle frames per candle', '3')
    .option('--faults <list>', `comma-separated faults: ${FAULT_KINDS.join(',')}`, '')
    .option('--fault-rate <p>', 'probability of each listed fault per opportunity', '0.01')
    .option('--seed <n>', 'seed of the fault RNG', '1')
    .option('--duration <seconds>', 'stop by itself after this many real seconds (default: run until Ctrl-C)')
    .option('--balances <list>', 'the account\'s starting balances, e.g. USDT=10000,BTC=0 (with CANDLECRAFT_API_KEY/SECRET set)')
    .option('--commission <fraction>', 'commission per fill, fraction of its quote amount (0.001 = 0.1%)'),
).action(async (raw: Record<string, unknown>) =>
  runCommand(raw['verbose'] === true, () => run(validateOptions(optionsSchema, raw))),
);

await parseCommandLine(program);
