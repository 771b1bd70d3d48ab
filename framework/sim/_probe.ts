import { pro } from 'ccxt';
import type { Exchange } from 'ccxt';
const ex = new pro.binance({ options: { fetchCurrencies: false } });
type B = InstanceType<typeof pro.binance>;
const b: B = ex;
const e: Exchange = ex;
console.log(typeof ex.urls, (ex.urls as Record<string, unknown>)['api'] !== undefined, b.id, e.id);
