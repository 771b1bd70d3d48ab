import { Session } from 'node:inspector';
import { writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { readDataset } from '../framework/store/partitions';
import { loadStrategy } from '../framework/strategy/loader';
import { PaperBroker } from '../framework/broker/paper-broker';
import { brokerConfig } from '../framework/broker/broker-config';
import { Engine } from '../framework/engine/engine';
const sub = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1m' };
const file = process.argv[2] ?? 'bench/strategies/macd-1m.ts';
const c = readDataset('bench/data', sub);
const { strategy } = await loadStrategy(file);
const s = new Session(); s.connect(); s.post('Profiler.enable');
for (let rep = 0; rep < 2; rep++) {
  const broker = new PaperBroker(brokerConfig());
  const engine = new Engine({ strategy, broker, file, subscription: sub });
  let tl = 0;
  await engine.replay(c, { onProgress: (d) => { if (d === 10000) { tl = performance.now(); if (rep === 1) s.post('Profiler.start'); } } });
  console.log('loop', (performance.now() - tl).toFixed(0));
}
s.post('Profiler.stop', (err, { profile }) => { rmSync('.tmp/prof', { recursive: true, force: true }); mkdirSync('.tmp/prof'); writeFileSync('.tmp/prof/x.cpuprofile', JSON.stringify(profile)); });
