/**
 * The start of every page the project writes (a run's `report.html`, an optimisation's results page): the document
 * head with the report's stylesheet (`report/html/report.css`) inlined, so that the page opens offline.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { escapeHtml } from './format';

let stylesheet: string | undefined;

/**
 * `<!doctype html>` through `<body>`: UTF-8, a responsive viewport, `generator` candlecraft, the escaped `title`, and
 * one `<style>` element holding the report's stylesheet (read once from disk) followed by `extraCss` (rules of this
 * page only).
 */
export function pageStart(title: string, extraCss = ''): string {
  stylesheet ??= readFileSync(new URL('./report.css', import.meta.url), 'utf8');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="candlecraft">
<title>${escapeHtml(title)}</title>
<style>
${stylesheet}${extraCss === '' ? '' : `\n${extraCss}`}
</style>
</head>
<body>
`;
}
