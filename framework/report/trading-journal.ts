/**
 * The trading journal of a run, `trading.jsonl` in its folder: every order event, fill, closed trade and position
 * change of the paper broker, and after every candle a checkpoint of the broker's whole state, appended and fsynced
 * before the next candle is acted on. After a SIGKILL the last checkpoint restores the broker
 * ({@link readTradingJournal}, then {@link "broker/paper-broker"!PaperBroker.restore | PaperBroker.restore}).
 *
 * Lines (JSON Lines, times UTC epoch ms; NaN as the string `"NaN"`, see `report/json-lines.ts`), in the order they
 * happened, each checkpoint's lines written with one `write` and one `fdatasync`:
 * - `{"kind":"order","order":{…},"targetQuantity":n}`: an {@link "broker/orders"!OrderEvent | OrderEvent};
 * - `{"kind":"fill","fill":{…}}`: a {@link "broker/types"!Fill | Fill};
 * - `{"kind":"trade","trade":{…}}`: a closed {@link "broker/types"!Trade | Trade};
 * - `{"kind":"position","time":t,"position":{…}|null}`: the position after candle `t`, when it changed;
 * - `{"kind":"state","time":t,"state":{…}}`: the {@link "broker/broker-state"!BrokerState | BrokerState} after
 *   candle `t` (the checkpoint);
 * - `{"kind":"resume","after":a,"first":f}`: a {@link RunResume}, before the lines of the continued run's first candle.
 *
 * @module
 */
import { closeSync, existsSync, fdatasyncSync, openSync, readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { parseBrokerState, type BrokerState } from '../broker/broker-state';
import type { OrderEvent } from '../broker/orders';
import type { PaperBroker } from '../broker/paper-broker';
import type { Fill, Trade } from '../broker/types';
import { FrameworkError } from '../core/errors';
import { writeAll } from '../store/durable';
import { jsonLine } from './json-lines';

/** The trading journal's file name in a run folder. */
export const TRADING_FILE = 'trading.jsonl';

/** What a trading journal holds up to its last checkpoint. */
export interface TradingJournalContents {
  /** The broker state of the last checkpoint, or null when none was written. */
  readonly state: BrokerState | null;
  /** Fills and closed trades up to that checkpoint, oldest first. */
  readonly fills: readonly Fill[];
  readonly trades: readonly Trade[];
  /** Every order event up to that checkpoint, oldest first. */
  readonly events: readonly OrderEvent[];
  /** Every checkpoint: the broker state after the candle opening at `time`, oldest first. */
  readonly checkpoints: readonly TradingCheckpoint[];
  /** Every continuation of the run after a kill, oldest first. */
  readonly resumes: readonly RunResume[];
}

/**
 * A run killed, then continued by the same command: it had acted on the traded candles up to the one opening at
 * `after` (its last checkpoint), and the continuation acted first on the one opening at `first` (UTC epoch ms of open
 * times). The candles between closed while the run was down or starting again: the continuation took them as history
 * and acted on none of them. Journaled with the first candle's checkpoint (durable together, or lost together).
 */
export interface RunResume {
  readonly after: number;
  readonly first: number;
}

/** The broker's state after the candle opening at `time` (UTC epoch ms), as a checkpoint journaled it. */
export interface TradingCheckpoint {
  readonly time: number;
  readonly state: BrokerState;
}

/**
 * Appends a broker's order events, fills, trades and position changes to `trading.jsonl`, with a fsynced checkpoint
 * per candle. Attach it right after the broker is made (or restored): it journals what happens from then on.
 */
export class TradingJournal {
  readonly #broker: PaperBroker;
  readonly #fd: number;
  #lines: string[] = [];
  #fills: number;
  #trades: number;
  #position: string;

  private constructor(dir: string, broker: PaperBroker) {
    this.#broker = broker;
    this.#fd = openSync(join(dir, TRADING_FILE), 'a');
    this.#fills = broker.fills.length;
    this.#trades = broker.trades.length;
    this.#position = JSON.stringify(broker.position);
    broker.addOrderListener((event) => this.#lines.push(jsonLine({ kind: 'order', ...event })));
  }

  /**
   * Starts (or, for a continued run, goes on appending to) the trading journal in the run folder `dir`. What a killed
   * run wrote after its last checkpoint (a torn line, or lines of a checkpoint cut short) is cut off first and made
   * durable, so that the lines appended now follow that checkpoint: the restored broker makes those events again.
   *
   * @throws the file system's error when `trading.jsonl` cannot be opened for appending.
   */
  static open(dir: string, broker: PaperBroker): TradingJournal {
    const path = join(dir, TRADING_FILE);
    if (existsSync(path)) {
      const text = readFileSync(path);
      const end = endOfLastCheckpoint(text);
      if (end < text.length) {
        truncateSync(path, end);
        const fd = openSync(path, 'r+');
        fdatasyncSync(fd);
        closeSync(fd);
      }
    }
    return new TradingJournal(dir, broker);
  }

  /**
   * Writes what happened since the last checkpoint (order events, fills, trades, a position change) and the broker's
   * state after the candle opening at `time`, in one write, then fdatasyncs: once it returns, a SIGKILL loses nothing
   * of it.
   */
  checkpoint(time: number): void {
    const broker = this.#broker;
    const lines = this.#lines;
    this.#lines = [];
    for (; this.#fills < broker.fills.length; this.#fills++) lines.push(jsonLine({ kind: 'fill', fill: broker.fills[this.#fills] }));
    for (; this.#trades < broker.trades.length; this.#trades++) lines.push(jsonLine({ kind: 'trade', trade: broker.trades[this.#trades] }));
    const position = JSON.stringify(broker.position);
    if (position !== this.#position) {
      this.#position = position;
      lines.push(jsonLine({ kind: 'position', time, position: broker.position }));
    }
    lines.push(jsonLine({ kind: 'state', time, state: broker.snapshot() }));
    writeAll(this.#fd, Buffer.from(`${lines.join('\n')}\n`));
    fdatasyncSync(this.#fd);
  }

  /**
   * Records that the run continues after a kill ({@link RunResume}); call it as the continuation acts on its first
   * candle, before that candle's events: the line is written with the candle's {@link checkpoint}.
   */
  resumed(resume: RunResume): void {
    this.#lines.push(jsonLine({ kind: 'resume', ...resume }));
  }

  /** Closes the file (after a last {@link checkpoint}). */
  close(): void {
    closeSync(this.#fd);
  }
}

/**
 * Reads `trading.jsonl` of the run folder `dir` up to its last checkpoint: the lines after it (a checkpoint cut short
 * by a kill) and a torn last line are ignored. Empty contents when the file does not exist.
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} naming the file and line when a complete line is not
 *   JSON or a checkpoint is not a broker state.
 */
export function readTradingJournal(dir: string): TradingJournalContents {
  const path = join(dir, TRADING_FILE);
  if (!existsSync(path)) return { state: null, fills: [], trades: [], events: [], checkpoints: [], resumes: [] };
  const lines = readFileSync(path, 'utf8').split('\n').slice(0, -1); // after the last newline: empty or torn
  let state: BrokerState | null = null;
  let kept = { fills: 0, trades: 0, events: 0, resumes: 0 };
  const fills: Fill[] = [];
  const trades: Trade[] = [];
  const events: OrderEvent[] = [];
  const checkpoints: TradingCheckpoint[] = [];
  const resumes: RunResume[] = [];
  lines.forEach((line, i) => {
    let record: { kind?: unknown; [key: string]: unknown };
    try {
      record = JSON.parse(line, (key, value: unknown) => (key === 'averagePrice' && value === 'NaN' ? Number.NaN : value)) as typeof record;
    } catch (error) {
      throw new FrameworkError(`${path} line ${i + 1} is not JSON: ${line.slice(0, 120)}`, { cause: error });
    }
    if (record.kind === 'fill') fills.push(record['fill'] as Fill);
    else if (record.kind === 'trade') trades.push(record['trade'] as Trade);
    else if (record.kind === 'order') events.push({ order: record['order'], targetQuantity: record['targetQuantity'] } as OrderEvent);
    else if (record.kind === 'resume') resumes.push({ after: record['after'] as number, first: record['first'] as number });
    else if (record.kind === 'state') {
      state = parseBrokerState(record['state'], `${path} line ${i + 1}`);
      checkpoints.push({ time: record['time'] as number, state });
      kept = { fills: fills.length, trades: trades.length, events: events.length, resumes: resumes.length };
    }
  });
  return {
    state,
    fills: fills.slice(0, kept.fills),
    trades: trades.slice(0, kept.trades),
    events: events.slice(0, kept.events),
    checkpoints,
    resumes: resumes.slice(0, kept.resumes),
  };
}

/** Byte offset just after the newline of the last `state` line of `text` (0 when there is none). */
function endOfLastCheckpoint(text: Buffer): number {
  const marker = Buffer.from('{"kind":"state"');
  for (let end = text.lastIndexOf(0x0a); end >= 0; end = text.lastIndexOf(0x0a, end - 1)) {
    const start = end === 0 ? 0 : text.lastIndexOf(0x0a, end - 1) + 1;
    if (text.subarray(start, start + marker.length).equals(marker)) return end + 1;
    if (end === 0) break;
  }
  return 0;
}
