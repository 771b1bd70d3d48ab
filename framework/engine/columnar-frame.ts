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
 * except that three of its parts are made only when first read: the row arrays (`$data`: `df.values`, `df.iloc`,
 * `df.head`, …), each column array (`$dataIncolumnFormat`: `df[column]` makes that one, danfo code reading the whole
 * list makes them all) and the index `0 … n − 1` (`$index`). Each is made from a private snapshot of the values, as
 * danfo would have made it earlier. Once the rows are made the frame is an ordinary danfo DataFrame. Until then:
 *
 * - `shape` is answered from the snapshot (`[rows, columns]`, as danfo computes it from the rows);
 * - `addColumn(name, values, { inplace: true })` of a new column adds it to the snapshot (values as danfo reads them,
 *   `values[i]`) and drops the column arrays, to be made again fresh when read, as danfo re-transposes its rows into
 *   fresh arrays; it sets the dtypes by danfo's own inference over the first rows, then the column names and accessor,
 *   as danfo does; any other call (a replaced column, `inplace: false`, invalid arguments) goes to danfo's
 *   `addColumn`, which first makes the rows;
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

/** danfo's 2-D data type (rows of values), as its `Utils.inferDtype` takes it. */
type ArrayType2D = Parameters<InstanceType<Danfo['Utils']>['inferDtype']>[0];

/**
 * A column of the snapshot: a typed array of candle values (not copied), or a copy of added values: a `Float64Array`
 * when they are all numbers, else a plain array.
 */
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
  [COLUMNS]?: (unknown[] | undefined)[];
  [INDEX]?: (string | number)[] | undefined;
  [INDEX_ROWS]?: number;
}

/** The row snapshot while the rows are not made (then the truth of the rows). */
const SNAPSHOT = Symbol('columnar-frame snapshot');
/** `$data` once made (or set by danfo). */
const ROWS = Symbol('columnar-frame rows');
/** `$dataIncolumnFormat`; an undefined entry is a column not made yet (a fresh copy of its snapshot column when made). */
const COLUMNS = Symbol('columnar-frame columns');
/** `$index`; undefined while it is `0 … n − 1` and not asked for. */
const INDEX = Symbol('columnar-frame index');
const INDEX_ROWS = Symbol('columnar-frame index rows');

/** Rows handed to danfo's dtype inference, which reads only the first 20 (`dtypeTestLim` of `shared/utils.js`). */
const DTYPE_PROBE_ROWS = 1_000;

interface Factory {
  readonly make: (names: readonly string[], columns: readonly Float64Array[]) => DataFrame;
}

const factories = new WeakMap<Danfo, Factory>();

/**
 * A danfo `DataFrame` with `names[j]` holding the values of `columns[j]` (all of one length ≥ 1), equal in state and
 * behaviour to `new DataFrame({ [names[j]]: Array.from(columns[j]) })` (see the module comment). The typed arrays are
 * not copied (for a million candles that is 48 MB and 20 ms): they must not change while the frame is in use, as the
 * engine's candles never do. The frame never writes to them, and what it hands out is made from them
 * (`df[column].values` is a new array).
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

  /** danfo's dtype inference over the first rows, as its constructor and `$setValues` run it over all rows. */
  const inferDtypes = (snapshot: Snapshot): string[] =>
    utils.inferDtype(makeRows(snapshot, 0, Math.min(snapshot.rows, DTYPE_PROBE_ROWS)) as ArrayType2D);

  const ColumnarDataFrame = class extends DataFrame {};
  const proto = ColumnarDataFrame.prototype;

  Object.defineProperty(proto, '$data', {
    configurable: true,
    get(this: Internals): unknown[][] {
      const snapshot = this[SNAPSHOT];
      if (snapshot !== undefined) {
        makeColumns(this);
        this[ROWS] = makeRows(snapshot, 0, snapshot.rows);
        this[SNAPSHOT] = undefined;
      }
      return this[ROWS]!;
    },
    set(this: Internals, rows: unknown[][]) {
      makeColumns(this);
      this[SNAPSHOT] = undefined;
      this[ROWS] = rows;
    },
  });

  Object.defineProperty(proto, '$dataIncolumnFormat', {
    configurable: true,
    get(this: Internals): unknown[][] {
      makeColumns(this);
      return this[COLUMNS] as unknown[][];
    },
    set(this: Internals, columns: unknown[][]) {
      this[COLUMNS] = columns;
    },
  });

  Object.defineProperty(proto, '$index', {
    configurable: true,
    get(this: Internals): (string | number)[] {
      this[INDEX] ??= utils.range(0, this[INDEX_ROWS]! - 1);
      return this[INDEX];
    },
    set(this: Internals, index: (string | number)[]) {
      this[INDEX] = index;
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
      const added = numbersCopy(source as unknown[]) ?? toArray(source as unknown[], snapshot.rows);
      const next: Snapshot = { rows: snapshot.rows, columns: [...snapshot.columns] };
      next.columns.splice(at, 0, added);
      const names = [...this.columns];
      names.splice(at, 0, column);
      // As danfo's $setValues: rows, dtypes inferred from the first rows, the column arrays made (fresh) from the rows:
      // here each when first asked for. Then the names, as its $setColumnNames (whose checks hold here: one more name,
      // unique) without reading the rows.
      this[SNAPSHOT] = next;
      this.$dtypes = inferDtypes(next);
      this[COLUMNS] = next.columns.map(() => undefined);
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
      if (j === -1 || this.$config.isLowMemoryMode) return getColumnData.call(this, column, returnSeries);
      const data = columnAt(this, j);
      if (data === undefined) return getColumnData.call(this, column, returnSeries);
      if (!returnSeries) return data;
      const pristine = this[INDEX] === undefined || isRange(this[INDEX], data.length);
      if (data.length === 0 || this[INDEX_ROWS] !== data.length || !pristine) return getColumnData.call(this, column, returnSeries);
      return new Series(data as number[], { dtypes: [this.$dtypes[j]!], columns: [column], config: { ...(this.$config as object) } });
    },
  });

  return {
    make(names, columns) {
      const df = new ColumnarDataFrame([], { columns: [...names] }) as unknown as Internals;
      const snapshot: Snapshot = { rows: columns[0]!.length, columns: [...columns] };
      df[SNAPSHOT] = snapshot;
      df[COLUMNS] = snapshot.columns.map(() => undefined);
      df[INDEX] = undefined;
      df[INDEX_ROWS] = snapshot.rows;
      df.$dtypes = inferDtypes(snapshot);
      return df as unknown as DataFrame;
    },
  };
}

/**
 * The values of column `name` of `df`, for reading only: what `df.column(name).values` holds. For a columnar frame
 * whose column array is not made yet this is the snapshot's column itself (a typed array for a candle column), so
 * reading every column of a long frame does not copy each into a new array first.
 *
 * @returns undefined when `df` has no such column.
 */
export function columnValues(df: DataFrame, name: string): ArrayLike<unknown> | undefined {
  const internals = df as unknown as Internals;
  const j = df.columns.indexOf(name);
  if (j === -1) return undefined;
  const snapshot = internals[SNAPSHOT];
  const made = internals[COLUMNS];
  if (snapshot !== undefined && made !== undefined && made[j] === undefined) return snapshot.columns[j];
  return (df as unknown as { $getColumnData(name: string, returnSeries: false): unknown[] }).$getColumnData(name, false);
}

/** Makes every column not made yet from the snapshot (a column is only ever unmade while there is one). */
function makeColumns(df: Internals): void {
  const columns = df[COLUMNS];
  const snapshot = df[SNAPSHOT];
  if (columns === undefined || snapshot === undefined) return;
  for (let j = 0; j < columns.length; j++) columns[j] ??= toArray(snapshot.columns[j]!, snapshot.rows);
}

/** Column `j`, made from the snapshot if not made yet (undefined only if danfo set fewer columns than names). */
function columnAt(df: Internals, j: number): unknown[] | undefined {
  const columns = df[COLUMNS]!;
  const snapshot = df[SNAPSHOT];
  if (columns[j] === undefined && snapshot !== undefined) columns[j] = toArray(snapshot.columns[j]!, snapshot.rows);
  return columns[j];
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

/** A `Float64Array` copy of `values` when every one is a number (NaN included), else null. */
function numbersCopy(values: readonly unknown[]): Float64Array | null {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number') return null;
    out[i] = v;
  }
  return out;
}

/** `values[0 … length − 1]` as a new plain array (a counted loop: several times faster than `Array.from`). */
function toArray(values: ArrayLike<unknown>, length: number): unknown[] {
  const out: unknown[] = new Array(length);
  for (let i = 0; i < length; i++) out[i] = values[i];
  return out;
}

/** Whether `index` is `0, 1, …, length − 1` (what a Series generates when given no index). */
function isRange(index: readonly (string | number)[], length: number): boolean {
  if (index.length !== length) return false;
  for (let i = 0; i < length; i++) if (index[i] !== i) return false;
  return true;
}
