/**
 * A danfojs `DataFrame` built from columns whose row arrays are made only when something asks for them.
 *
 * danfojs-node 1.1.2 (`danfojs-base/core/generic.js`, `core/frame.js`) keeps a DataFrame twice: as rows (`$data`, an
 * array of row arrays) and as columns (`$dataIncolumnFormat`). Building 1,000,000 candle rows, and rebuilding every row
 * and re-transposing the whole table on each `addColumn`, is most of the cost of `populateIndicators` over a long
 * history (seconds per call), while a strategy that adds indicator columns reads only columns.
 *
 * {@link columnarDataFrame} returns an instance of a subclass of danfo's `DataFrame` (so `instanceof DataFrame` and every
 * danfo method work) whose internal state is at all times what danfo's own constructor and methods would have made,
 * except that the row arrays are built from a private snapshot of the column values the first time anything reads
 * `$data` (`df.values`, `df.iloc`, `df.head`, …). From then on the frame is an ordinary danfo DataFrame. Until then:
 *
 * - `shape` is answered from the snapshot (`[rows, columns]`, as danfo computes it from the rows);
 * - `addColumn(name, values, { inplace: true })` of a new column updates the snapshot and re-makes every column array
 *   from it, as danfo re-transposes its rows (fresh arrays; values as danfo reads them, `values[i]`), sets the dtypes by
 *   danfo's own inference over the first rows, then the column names and accessor, as danfo does; any other call
 *   (a replaced column, `inplace: false`, invalid arguments) goes to danfo's `addColumn`, which first makes the rows;
 * - `df[column]` / `df.column(column)` give the same Series as danfo; when the index is still `0 … n − 1` the Series
 *   generates that index itself instead of copying and de-duplication-checking the frame's (same values).
 *
 * The snapshot is the truth of the rows, as danfo's rows are: a column array handed out (`df.close.values`) and changed
 * in place by a strategy changes the column, not the rows, exactly as in danfo.
 *
 * @module
 */
import type { DataFrame, Series } from 'danfojs-node';

type Danfo = typeof import('danfojs-node');

/** A column of the snapshot: a typed array copy of candle values, or a plain array copy of added values. */
type SnapshotColumn = ArrayLike<unknown>;

/** The snapshot the rows are made from while they have not been made: one entry per column, in column order. */
interface Snapshot {
  readonly rows: number;
  readonly columns: SnapshotColumn[];
}

/** The danfojs-node 1.1.2 internals this module reads and sets (protected or private in danfo's typings). */
interface Internals {
  $data: unknown[][];
  $dataIncolumnFormat: unknown[][];
  $index: (string | number)[];
  $dtypes: string[];
  $columns: string[];
  $config: { readonly isLowMemoryMode: boolean };
  readonly columns: string[];
  $setInternalColumnDataProperty(column?: string): void;
  [SNAPSHOT]?: Snapshot | undefined;
  [ROWS]?: unknown[][];
}

const SNAPSHOT = Symbol('columnar-frame snapshot');
const ROWS = Symbol('columnar-frame rows');

/** Rows handed to danfo's dtype inference, which reads only the first 20 (`dtypeTestLim` of `shared/utils.js`). */
const DTYPE_PROBE_ROWS = 1_000;

interface Factory {
  readonly make: (names: readonly string[], columns: readonly Float64Array[]) => DataFrame;
}

const factories = new WeakMap<Danfo, Factory>();

/**
 * A danfo `DataFrame` with `names[j]` holding the values of `columns[j]` (all of one length ≥ 1), equal in state and
 * behaviour to `new DataFrame({ [names[j]]: Array.from(columns[j]) })` (see the module comment). The typed arrays are
 * copied: later changes to them do not reach the frame.
 *
 * @param danfo - the loaded `danfojs-node` module.
 * @throws RangeError when there are no rows or the columns differ in length.
 */
export function columnarDataFrame(danfo: Danfo, names: readonly string[], columns: readonly Float64Array[]): DataFrame {
  const rows = columns[0]?.length ?? 0;
  if (rows === 0 || columns.some((c) => c.length !== rows) || names.length !== columns.length) {
    throw new RangeError(`columnarDataFrame: ${columns.length} columns of ${rows} rows for ${names.length} names`);
  }
  let factory = factories.get(danfo);
  if (factory === undefined) {
    factory = defineFactory(danfo);
    factories.set(danfo, factory);
  }
  return factory.make(names, columns);
}

function defineFactory(danfo: Danfo): Factory {
  const { DataFrame, NDframe, Series, Utils } = danfo;
  const utils = new Utils();
  const shape = Object.getOwnPropertyDescriptor(NDframe.prototype, 'shape')!.get!;
  const base = DataFrame.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const addColumn = base['addColumn']!;
  const getColumnData = base['$getColumnData']!;

  const ColumnarDataFrame = class extends DataFrame {};
  const proto = ColumnarDataFrame.prototype;

  Object.defineProperty(proto, '$data', {
    configurable: true,
    get(this: Internals): unknown[][] {
      const snapshot = this[SNAPSHOT];
      if (snapshot !== undefined) {
        this[ROWS] = makeRows(snapshot, 0, snapshot.rows);
        this[SNAPSHOT] = undefined;
      }
      return this[ROWS]!;
    },
    set(this: Internals, rows: unknown[][]) {
      this[SNAPSHOT] = undefined;
      this[ROWS] = rows;
    },
  });

  Object.defineProperty(proto, 'shape', {
    configurable: true,
    get(this: Internals): number[] {
      const snapshot = this[SNAPSHOT];
      return snapshot === undefined ? (shape.call(this) as number[]) : [snapshot.rows, snapshot.columns.length];
    },
  });

  Object.defineProperty(proto, 'addColumn', {
    configurable: true,
    writable: true,
    value: function (this: Internals, column: string, values: unknown, options?: { inplace?: boolean; atIndex?: number | string }) {
      const snapshot = this[SNAPSHOT];
      const { inplace, atIndex } = { inplace: false, atIndex: this.columns.length, ...options };
      const source = values instanceof Series ? (values as Series).values : values;
      const at = typeof atIndex === 'string' ? this.columns.indexOf(atIndex) : atIndex;
      const fast =
        snapshot !== undefined &&
        inplace &&
        !this.$config.isLowMemoryMode &&
        at !== -1 &&
        typeof column === 'string' &&
        column !== '' &&
        Boolean(values) &&
        !this.$columns.includes(column) &&
        new Set(this.$columns).size === this.$columns.length &&
        Array.isArray(source) &&
        source.length === snapshot.rows;
      if (!fast) return addColumn.call(this, column, values, options);
      const added = Array.from({ length: snapshot.rows }, (_, i) => (source as unknown[])[i]);
      const next: Snapshot = { rows: snapshot.rows, columns: [...snapshot.columns] };
      next.columns.splice(at, 0, added);
      const names = [...this.columns];
      names.splice(at, 0, column);
      // As danfo's $setValues: rows, dtypes inferred from the first rows, the column arrays made from the rows. Then
      // the names, as its $setColumnNames (whose checks hold here: one more name, unique) without reading the rows.
      this[SNAPSHOT] = next;
      this.$dtypes = utils.inferDtype(makeRows(next, 0, Math.min(next.rows, DTYPE_PROBE_ROWS)));
      this.$dataIncolumnFormat = next.columns.map((c) => Array.from(c));
      this.$columns = names;
      this.$setInternalColumnDataProperty(column);
      return undefined;
    },
  });

  Object.defineProperty(proto, '$getColumnData', {
    configurable: true,
    writable: true,
    value: function (this: Internals, column: string, returnSeries = true) {
      const j = this.columns.indexOf(column);
      const data = j === -1 ? undefined : this.$dataIncolumnFormat[j];
      if (!returnSeries || this.$config.isLowMemoryMode || data === undefined || data.length === 0 || !isRange(this.$index, data.length)) {
        return getColumnData.call(this, column, returnSeries);
      }
      return new Series(data as number[], { dtypes: [this.$dtypes[j]!], columns: [column], config: { ...this.$config } });
    },
  });

  return {
    make(names, columns) {
      const df = new ColumnarDataFrame([], { columns: [...names] }) as unknown as Internals;
      const snapshot: Snapshot = { rows: columns[0]!.length, columns: columns.map((c) => c.slice()) };
      df[SNAPSHOT] = snapshot;
      df.$dataIncolumnFormat = snapshot.columns.map((c) => Array.from(c as Float64Array));
      df.$index = utils.range(0, snapshot.rows - 1);
      df.$dtypes = utils.inferDtype(makeRows(snapshot, 0, Math.min(snapshot.rows, DTYPE_PROBE_ROWS)));
      return df as unknown as DataFrame;
    },
  };
}

/** Rows `from … to − 1` of a snapshot as danfo's row arrays. */
function makeRows(snapshot: Snapshot, from: number, to: number): unknown[][] {
  const { columns } = snapshot;
  const width = columns.length;
  const rows: unknown[][] = new Array(to - from);
  for (let i = from; i < to; i++) {
    const row: unknown[] = [];
    for (let j = 0; j < width; j++) row.push(columns[j]![i]);
    rows[i - from] = row;
  }
  return rows;
}

/** Whether `index` is `0, 1, …, length − 1` (what a Series generates when given no index). */
function isRange(index: readonly (string | number)[], length: number): boolean {
  if (index.length !== length) return false;
  for (let i = 0; i < length; i++) if (index[i] !== i) return false;
  return true;
}
