import { pathToFileURL } from 'node:url';
import path from 'node:path';
export default async function run(n: number): Promise<string> { const m = await import(pathToFileURL(path.resolve('strategies/macd.ts')).href); return Object.keys(m).join(',') + n; }
