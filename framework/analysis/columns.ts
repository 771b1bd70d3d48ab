import { CANDLE_FRAME_COLUMNS } from '../strategy/frame';
import type { FrameColumns } from '../strategy/frame';

/**
 * The indicator columns of computed frame columns: every column except `open_time` and OHLCV, in the order the
 * strategy added them.
 */
export function indicatorNames(columns: FrameColumns): string[] {
  return Object.keys(columns).filter((name) => !(CANDLE_FRAME_COLUMNS as readonly string[]).includes(name));
}
