/**
 * The read-only view of the broker's account a strategy receives in
 * {@link "strategy/base-strategy"!BaseStrategy.onData | onData}: its position, its open orders, equity and cash, as
 * marked at the close of the candle being decided on. The broker computes it, so it is the same in a backtest, a paper
 * live run and a real live run. Prices and money in quote currency, quantities in base currency, times UTC epoch ms
 * of a candle's open time.
 *
 * @module
 */

/**
 * The open position as a strategy sees it.
 *
 * - `side`: `long` or `short`; `quantity`: base currency, > 0;
 * - `averageEntryPrice`: quantity-weighted average fill price of the entries and adds (slippage included, fees not);
 *   partial exits leave it unchanged;
 * - `stopPrice`, `takeProfitPrice`: the position's absolute trigger prices, when set;
 * - `openedAt`: open time of the candle whose open filled the first entry;
 * - `unrealisedPnl`: `quantity × (close − averageEntryPrice)` for a long, `quantity × (averageEntryPrice − close)` for
 *   a short, at the current candle's close; fees excluded (they are already paid out of cash).
 */
export interface PositionView {
  readonly side: 'long' | 'short';
  readonly quantity: number;
  readonly averageEntryPrice: number;
  readonly stopPrice?: number;
  readonly takeProfitPrice?: number;
  readonly openedAt: number;
  readonly unrealisedPnl: number;
}

/**
 * An order accepted and not yet filled (it fills at the next candle's open):
 * `side` `buy` / `sell`, `reason` (`entry`, `add`, `exit`, `partial_exit`, `reversal`), `quantity` in base currency,
 * `decidedAt` the open time of the candle it was decided on, and its deterministic `clientOrderId`.
 */
export interface OpenOrderView {
  readonly clientOrderId: string;
  readonly side: 'buy' | 'sell';
  readonly reason: string;
  readonly quantity: number;
  readonly decidedAt: number;
}

/**
 * What `onData` may read of the account, never change (every field is a getter or frozen):
 * - `position`: the open position, or `null` when flat;
 * - `openOrders`: orders waiting for the next open (empty in `onData` of a run driven by the engine: an order decided
 *   on one candle fills at the next candle's open, before `onData` of that candle);
 * - `equity`: `cash + position marked at the close`; `cash`: quote currency (a short's sale proceeds included).
 */
export interface AccountView {
  readonly position: PositionView | null;
  readonly openOrders: readonly OpenOrderView[];
  readonly equity: number;
  readonly cash: number;
}
