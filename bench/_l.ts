import { latencyRun } from './live-latency';
import { percentile } from './stats';
const r = await latencyRun(Number(process.argv[2] ?? 200), Number(process.argv[3] ?? 30000));
const ok = r.samples.filter((s) => !s.queued);
const c = ok.map((s) => s.closeToSignalMs), e = ok.map((s) => s.engineMs);
console.log('history', r.history, 'n', r.samples.length, 'unqueued', ok.length, 'p50', percentile(c, 50).toFixed(2), 'p99', percentile(c, 99).toFixed(2), 'max', Math.max(...c).toFixed(1), 'engine p50', percentile(e, 50).toFixed(2), 'p99', percentile(e, 99).toFixed(2), 'window', r.samples.at(-1)?.window);
console.log(ok.slice(0, 10).map((s) => s.closeToSignalMs.toFixed(1) + '/' + s.engineMs.toFixed(1)).join(' '));
