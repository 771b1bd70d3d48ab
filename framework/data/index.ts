/**
 * Dataset commands as library calls: downloading history over ccxt REST into the store, summarising stored datasets,
 * resampling a dataset into a coarser one, importing a candle file (and the store's writer, for candles already in
 * memory).
 *
 * @module
 */
export { DEFAULT_ATTEMPTS, DEFAULT_PAGE_LIMIT, DownloadError, fetchCandlePages, type CandlePage, type FetchCandlePagesOptions } from './fetch-candles';
export { downloadCandles, type DownloadOptions, type DownloadProgress, type DownloadResult } from './download';
export { summarizeDataset, summarizeDatasets, type DatasetSummary } from './summary';
export {
  DatasetExistsError,
  resampleDataset,
  type ResampleDatasetOptions,
  type ResampleDatasetResult,
} from './resample-dataset';
export {
  CandleFileError,
  importCandles,
  marketFromFileName,
  readCandleFile,
  type ImportResult,
} from './import-candles';
export { writeCandles } from '../store/partitions';
