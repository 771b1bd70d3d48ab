/**
 * The live-throughput bench's exchange: the project's simulator on loopback, in its own process (started by
 * `bench/live-throughput.ts` with `fork`), so that producing the frames does not take the client's CPU.
 *
 * `node --import tsx bench/sim-process.ts <symbols> <candlesPerSymbol>` (the module's exports are the protocol's, for
 * the bench; importing it starts nothing) plays the bench's 1m BTC/USDT candles under the names
 * {@link benchSymbol}`(0…symbols-1)` on a manual clock starting {@link HISTORY} candles in, with one forming and one
 * closing frame per candle. Messages, over the IPC channel: it sends {@link SimReady} once listening and
 * {@link SimSubscribed} once every market has a subscriber (after {@link SimRequest} `subscribers`); `advance` moves
 * its clock forward by whole candles (`candles` × 1 minute), emitting their frames, and answers {@link SimAdvanced};
 * `stop` stops it and exits.
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import { startSimulator } from '../framework/sim/simulator';
import { readDataset } from '../framework/store/partitions';
import { BENCH_1M, BENCH_ROOT, BENCH_START } from './data';

/** Candles before the simulator's start: the feeds' stored history ends with the last of them. */
export const HISTORY = 1_000;
/** The bench's 1m timeframe, in ms. */
export const MINUTE = 60_000;

/** The `i`-th simulated market: `B000/USDT`, `B001/USDT`, … */
export function benchSymbol(i: number): string {
  return `B${String(i).padStart(3, '0')}/USDT`;
}

/** Sent by the simulator process once it listens: its endpoints and the open time of its first live candle. */
export interface SimReady {
  readonly type: 'ready';
  readonly restUrl: string;
  readonly wsUrl: string;
  readonly start: number;
}
/** Sent by the simulator process once every market has a subscriber. */
export interface SimSubscribed {
  readonly type: 'subscribed';
}
/**
 * Sent by the simulator process after each `advance`: the wall-clock time (UTC epoch ms, sub-ms, the machine's clock
 * shared by every process) at which the frames of the candles it closed were queued on the sockets.
 */
export interface SimAdvanced {
  readonly type: 'advanced';
  readonly wallMs: number;
}
/** What the bench asks of the simulator process. */
export type SimRequest = { readonly type: 'subscribers' } | { readonly type: 'advance'; readonly candles: number } | { readonly type: 'stop' };

/** The simulator process's main: see the module comment. */
async function main(): Promise<void> {
  const [symbols, candlesPerSymbol] = process.argv.slice(2).map(Number) as [number, number];
  const played = readDataset(BENCH_ROOT, BENCH_1M, { to: BENCH_START + (HISTORY + candlesPerSymbol + 10) * MINUTE });
  const names = Array.from({ length: symbols }, (_, i) => benchSymbol(i));
  const start = played.openTime[HISTORY]!;
  const sim = await startSimulator({
    markets: names.map((symbol) => ({ symbol, timeframe: '1m', candles: played })),
    startTime: start,
    speed: 0,
    updatesPerCandle: 1,
  });
  const send = (message: SimReady | SimSubscribed | SimAdvanced): void => void process.send!(message);
  process.on('message', (request: SimRequest) => {
    switch (request.type) {
      case 'subscribers':
        void Promise.all(names.map((symbol) => sim.waitForSubscribers(symbol, '1m'))).then(() => send({ type: 'subscribed' }));
        return;
      case 'advance':
        sim.advanceTo(sim.clock() + request.candles * MINUTE);
        send({ type: 'advanced', wallMs: performance.timeOrigin + performance.now() });
        return;
      case 'stop':
        void sim.stop().then(() => process.disconnect());
    }
  });
  send({ type: 'ready', restUrl: sim.restUrl, wsUrl: sim.wsUrl, start });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
