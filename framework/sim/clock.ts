import { SimulatorConfigError } from './config';

/**
 * The simulator's exchange clock: accelerated real time, or a manual clock.
 *
 * `now() = anchorExchange + (realNow − anchorReal) × speed`, floored to whole ms. With `speed = 0` the clock is frozen
 * and only {@link SimClock.advanceTo} moves it. `advanceTo` also works at `speed > 0`: it jumps ahead and the clock runs
 * on from there. The clock never goes backwards.
 */
export class SimClock {
  private anchorExchange: number;
  private anchorReal: number;

  /**
   * @param startTime - exchange time at construction, UTC epoch ms.
   * @param speed - exchange ms per real ms, ≥ 0.
   * @param realNow - the real-time source in ms (monotonic); `performance.now` by default.
   */
  constructor(
    startTime: number,
    readonly speed: number,
    private readonly realNow: () => number = () => performance.now(),
  ) {
    this.anchorExchange = startTime;
    this.anchorReal = realNow();
  }

  /** Current exchange time, UTC epoch ms (integer). */
  now(): number {
    return Math.floor(this.anchorExchange + (this.realNow() - this.anchorReal) * this.speed);
  }

  /**
   * Moves the clock to `exchangeMs`.
   *
   * @throws {@link "sim/config"!SimulatorConfigError | SimulatorConfigError} when `exchangeMs` is before the current
   *   exchange time.
   */
  advanceTo(exchangeMs: number): void {
    const current = this.now();
    if (!Number.isFinite(exchangeMs) || exchangeMs < current) {
      throw new SimulatorConfigError(
        `advanceTo(${exchangeMs}): the exchange clock is already at ${current} and cannot go backwards`,
      );
    }
    this.anchorExchange = exchangeMs;
    this.anchorReal = this.realNow();
  }

  /** Real ms until the clock reaches `exchangeMs` (0 if already there, `Infinity` for a manual clock). */
  realMsUntil(exchangeMs: number): number {
    const ahead = exchangeMs - this.now();
    if (ahead <= 0) return 0;
    return this.speed === 0 ? Infinity : ahead / this.speed;
  }
}
