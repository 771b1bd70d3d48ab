import { runBacktest } from '../framework/engine/backtest';
const t = Deno.makeTempDirSync();
const r = await runBacktest({ file: '../strategies/macd.ts', runsRoot: t, datasetsRoot: '../datasets' });
console.log(r.summary.metrics, r.dir);
