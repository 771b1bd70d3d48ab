/**
 * Finding the live run a SIGKILL left unfinished, so that the same `npm run live` command continues it: same strategy,
 * parameters and traded market, stored under the same live store subscription (a simulator run never continues a run
 * on the real exchange), no `summary.json` (a run that stopped cleanly writes one), and a broker checkpoint in its
 * `trading.jsonl`.
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrokerState } from '../broker/broker-state';
import { describeSubscription, type Subscription } from '../core/subscription';
import type { RunHeader } from './journal';
import { readTradingJournal, type TradingJournalContents } from './trading-journal';

/** What to look for: the strategy's name and parameters hash, its traded market and where the run stores candles. */
export interface RunIdentity {
  readonly name: string;
  readonly parametersHash: string;
  readonly subscription: Subscription;
  readonly stored: Subscription;
}

/** An unfinished run: its folder, `run.json`, and its trading journal up to the last checkpoint. */
export interface UnfinishedRun extends TradingJournalContents {
  readonly dir: string;
  readonly header: RunHeader;
  readonly state: BrokerState;
}

/**
 * The newest (by `startedAt`) unfinished live run of `identity` in `runsRoot`, or null when there is none.
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} naming the file and line when the matching run's
 *   trading journal is damaged (a complete line that is not JSON, a checkpoint that is not a broker state).
 */
export function findUnfinishedRun(runsRoot: string, identity: RunIdentity): UnfinishedRun | null {
  if (!existsSync(runsRoot)) return null;
  const candidates: { dir: string; header: RunHeader }[] = [];
  for (const entry of readdirSync(runsRoot, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(runsRoot, entry.name);
    const headerPath = join(dir, 'run.json');
    if (!existsSync(headerPath) || existsSync(join(dir, 'summary.json'))) continue;
    let header: RunHeader;
    try {
      header = JSON.parse(readFileSync(headerPath, 'utf8')) as RunHeader;
    } catch {
      continue; // not a run written by this framework
    }
    if (matches(header, identity)) candidates.push({ dir, header });
  }
  candidates.sort((a, b) => b.header.startedAt - a.header.startedAt);
  for (const { dir, header } of candidates) {
    const journal = readTradingJournal(dir);
    if (journal.state !== null) return { ...journal, dir, header, state: journal.state };
  }
  return null;
}

function matches(header: RunHeader, identity: RunIdentity): boolean {
  const stored = header.origin?.store?.subscription;
  return (
    header.mode === 'live' &&
    header.strategy?.name === identity.name &&
    header.strategy.parametersHash === identity.parametersHash &&
    header.subscription !== undefined &&
    describeSubscription(header.subscription) === describeSubscription(identity.subscription) &&
    stored !== undefined &&
    describeSubscription(stored) === describeSubscription(identity.stored)
  );
}
