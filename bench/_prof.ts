import { inProcessBacktest, MACD_1M } from './backtest';
const r = await inProcessBacktest(MACD_1M);
console.log(JSON.stringify(r));
