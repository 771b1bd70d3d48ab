/**
 * The timing of periodic reconciliation, shared by a live run's {@link "execution/reconcile-loop"!ReconciliationLoop |
 * ReconciliationLoop} and the node's {@link "node/trade-commands"!TradeDesk | TradeDesk}: a pass every `intervalMs`
 * of real time after the previous one ended (never two at once), until stopped. A pass that fails is logged and the
 * schedule goes on: the next pass decides.
 *
 * @module
 */
import { messageOf } from '../core/errors';
import type { Logger } from '../core/logger';

/** Options of {@link PeriodicPasses}. */
export interface PeriodicPassesOptions {
  /** Real ms between the end of a pass and the start of the next. */
  readonly intervalMs: number;
  /** One pass (the caller makes it run between candles or commands). */
  readonly pass: () => Promise<void>;
  readonly logger?: Logger;
}

/** See the module description. */
export class PeriodicPasses {
  readonly #options: PeriodicPassesOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(options: PeriodicPassesOptions) {
    this.#options = options;
  }

  /** Schedules the first periodic pass `intervalMs` after `after` settles (e.g. the pass at start). */
  start(after: Promise<unknown> = Promise.resolve()): void {
    void after.catch(() => undefined).finally(() => this.#schedule());
  }

  /** Stops the schedule and waits for a pass in progress. Idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.#options
        .pass()
        .catch((error: unknown) => this.#options.logger?.error({ err: messageOf(error) }, 'reconciliation failed'))
        .finally(() => this.#schedule());
    }, this.#options.intervalMs);
  }
}
