import { Piscina } from 'piscina';
const pool = new Piscina({ filename: new URL('./w.ts', import.meta.url).href, maxThreads: 1 });
console.log(await pool.run(1));
await pool.destroy();
