import { readDataset } from '../framework/store/partitions';
import { candleDataFrame } from '../framework/engine/indicators';
import { alignToCandles } from '../framework/strategy/indicators';
import { MACD } from 'technicalindicators';
const sub = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1m' };
const t = () => performance.now();
const c = readDataset('bench/data', sub);
for (let rep = 0; rep < 2; rep++) {
let a = t();
const df = await candleDataFrame(c);
let b = t(); console.log('df', (b-a).toFixed(0));
const closes = df['close'].values as number[];
let d = t(); console.log('values', (d-b).toFixed(0));
const macd = MACD.calculate({ values: closes, fastPeriod: 12, slowPeriod: 26, signalPeriod: 9, SimpleMAOscillator: false, SimpleMASignal: false });
let e = t(); console.log('MACD', (e-d).toFixed(0));
const h = alignToCandles(macd.map((m) => m.histogram), closes.length);
let f = t(); console.log('map+align', (f-e).toFixed(0));
df.addColumn('macd_hist', h, { inplace: true });
let g = t(); console.log('addColumn', (g-f).toFixed(0));
const v = df.column('macd_hist').values;
let i = t(); console.log('column.values', (i-g).toFixed(0));
}
