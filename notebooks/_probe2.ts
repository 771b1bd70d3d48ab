import { runLive } from '../framework/engine/live';
const t = Deno.makeTempDirSync();
const r = await runLive({ file: '../strategies/macd.ts', datasetsRoot: '../datasets', simulator: { start: Date.UTC(2021,0,10), speed: 10000 }, storeRoot: t, runsRoot: t, maxCandles: 50 });
console.log(r.liveCandles.length, r.engine.signals.length, r.dir, r.feed);
