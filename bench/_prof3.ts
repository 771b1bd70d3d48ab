import { readDataset } from '../framework/store/partitions';
import { loadStrategy } from '../framework/strategy/loader';
import { PaperBroker } from '../framework/broker/paper-broker';
import { brokerConfig } from '../framework/broker/broker-config';
import { Engine } from '../framework/engine/engine';
const sub = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1m' };
const file = process.argv[2] ?? 'bench/strategies/noop-1m.ts';
const c = readDataset('bench/data', sub);
const { strategy } = await loadStrategy(file);
for (let rep = 0; rep < 3; rep++) {
  const broker = new PaperBroker(brokerConfig());
  const engine = new Engine({ strategy, broker, file, subscription: sub });
  const cols = await engine.frameColumns(c);
  const t0 = performance.now();
  let tl = 0;
  await engine.replay(c, { onProgress: (d) => { if (d === 10000) tl = performance.now(); } });
  const t1 = performance.now();
  console.log('replay', (t1 - t0).toFixed(0), 'first 10k at', (tl - t0).toFixed(0), 'signals', engine.signals.length);
}
