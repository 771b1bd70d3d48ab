import { readDataset } from '../framework/store/partitions';
import { throughputRun } from './live-throughput';
const c = readDataset('bench/data', { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1m' }, { to: Date.UTC(2019, 0, 20) });
for (const [s, n] of [[1, 500], [10, 200], [100, 50]] as const) for (const mode of ['await', 'pipelined'] as const) {
  const r = await throughputRun(c, s, n, mode);
  console.log(JSON.stringify(r));
}
