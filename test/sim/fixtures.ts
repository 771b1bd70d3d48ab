/**
 * Real candles for the simulator tests, read from ../shared/data (see its SOURCES.md), through the pipeline tests'
 * loaders.
 *
 * @module
 */
export { DATA_DIR, loadRows as readRows, toBatch as rowsToBatch, type OhlcvRow } from '../pipeline/realData';
