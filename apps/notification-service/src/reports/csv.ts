/** A cell: numbers and booleans are written as-is, null/undefined as an empty cell. */
export type CsvValue = string | number | boolean | null | undefined;

/**
 * Spreadsheets evaluate a text cell starting with one of these as a formula (OWASP "CSV
 * injection"); tab and carriage return are on the list because some of them skip those first.
 */
const FORMULA_TRIGGERS = new Set(['=', '+', '-', '@', '\t', '\r']);
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * RFC 4180 CSV: a header row, CRLF line ends, a field quoted when it holds a quote, comma, CR or
 * LF, with inner quotes doubled. Text cells that a spreadsheet would run as a formula get a
 * leading single quote; numbers never do, so a negative number stays a number.
 */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  return csvHeader(header) + csvLines(rows);
}

/** The header line alone, CRLF-terminated. */
export function csvHeader(header: readonly string[]): string {
  return `${header.map(textCell).join(',')}\r\n`;
}

/** Data lines alone, each CRLF-terminated: a long table can be written a slice at a time. */
export function csvLines(rows: readonly (readonly CsvValue[])[]): string {
  let text = '';
  for (const row of rows) text += `${row.map(cell).join(',')}\r\n`;
  return text;
}

function cell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return textCell(value);
}

function textCell(value: string): string {
  const safe = value.length > 0 && FORMULA_TRIGGERS.has(value[0]) ? `'${value}` : value;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
