import { readDataset } from '../framework/store/partitions';
import { isDeepStrictEqual } from 'node:util';
const { DataFrame } = await import('danfojs-node');
const sub = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1m' };
const c = readDataset('bench/data', sub);
const names = ['open_time', 'open', 'high', 'low', 'close', 'volume'] as const;
const src = [c.openTime, c.open, c.high, c.low, c.close, c.volume];
function current() {
  return new DataFrame({ open_time: Array.from(c.openTime), open: Array.from(c.open), high: Array.from(c.high), low: Array.from(c.low), close: Array.from(c.close), volume: Array.from(c.volume) });
}
function direct() {
  const n = c.openTime.length;
  const cols = src.map((a) => Array.from(a));
  const rows = new Array(n);
  for (let i = 0; i < n; i++) rows[i] = [cols[0]![i], cols[1]![i], cols[2]![i], cols[3]![i], cols[4]![i], cols[5]![i]];
  const probe = new DataFrame(rows.slice(0, 20), { columns: [...names] });
  const df = new DataFrame([], { columns: [...names] }) as any;
  df.$data = rows; df.$dataIncolumnFormat = cols; df.$index = Array.from({ length: n }, (_, i) => i); df.$dtypes = [...(probe as any).$dtypes];
  return df;
}
for (let rep = 0; rep < 3; rep++) {
  let a = performance.now(); const x = current(); let b = performance.now(); const y = direct(); let d = performance.now();
  console.log('current', (b - a).toFixed(0), 'direct', (d - b).toFixed(0));
  if (rep === 0) {
    for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) console.log(k, isDeepStrictEqual((x as any)[k], (y as any)[k]));
    console.log('dtypes', x.dtypes, y.dtypes, Object.getOwnPropertyNames(x).join(','), '|', Object.getOwnPropertyNames(y).join(','));
  }
}
