/**
 * Text for the HTML report: HTML escaping and the human formats of numbers, money, fractions and durations
 * (the conventions of the terminal report in `report/table.ts`).
 *
 * @module
 */

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** `text` with `& < > " '` replaced by character references: safe in element content and quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * JSON for a `<script type="application/json">` element: `JSON.stringify(value)` with `<`, `>`, `&`, U+2028 and
 * U+2029 written as `\uXXXX` escapes, so no string can close the element (`</script>`) or open a comment; `JSON.parse`
 * reads it back unchanged.
 */
export function jsonForScript(value: unknown): string {
  return escapeForScript(JSON.stringify(value));
}

/** `<`, `>`, `&`, U+2028 and U+2029 of JSON text as `\uXXXX` escapes (see {@link jsonForScript}). */
function escapeForScript(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Elements of a long array serialised per piece by {@link writeJsonForScript}. */
const JSON_PIECE = 65_536;

/** Arrays up to this length whose elements are objects are written element by element (they may hold long arrays). */
const FEW_ELEMENTS = 64;

/**
 * Writes the text of `jsonForScript(value)` through `write`, piece by piece, never holding the whole text (a report
 * of a million candles embeds about 100 MB of JSON): long arrays are serialised `JSON_PIECE` elements at a time,
 * objects and short arrays of objects member by member. The pieces concatenated are exactly `jsonForScript(value)`
 * for JSON data (objects, arrays, strings, numbers, booleans, null; a value with `toJSON` is serialised whole).
 */
export function writeJsonForScript(value: unknown, write: (text: string) => void): void {
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof (value as { toJSON?: unknown }).toJSON === 'function' ||
    value instanceof Number ||
    value instanceof String ||
    value instanceof Boolean
  ) {
    const text = JSON.stringify(value);
    if (text !== undefined) write(escapeForScript(text));
    return;
  }
  if (Array.isArray(value)) {
    if (value.length > FEW_ELEMENTS || value.every((v) => v === null || typeof v !== 'object')) {
      write('[');
      for (let start = 0; start < value.length; start += JSON_PIECE) {
        const piece = JSON.stringify(value.slice(start, start + JSON_PIECE));
        write(`${start > 0 ? ',' : ''}${escapeForScript(piece.slice(1, -1))}`);
      }
      write(']');
      return;
    }
    write('[');
    value.forEach((element: unknown, i) => {
      if (i > 0) write(',');
      if (element === undefined || typeof element === 'function' || typeof element === 'symbol') write('null');
      else writeJsonForScript(element, write);
    });
    write(']');
    return;
  }
  write('{');
  let first = true;
  for (const key of Object.keys(value)) {
    const member = (value as Record<string, unknown>)[key];
    if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
    write(`${first ? '' : ','}${escapeForScript(JSON.stringify(key))}:`);
    writeJsonForScript(member, write);
    first = false;
  }
  write('}');
}
