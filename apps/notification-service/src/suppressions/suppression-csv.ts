import { isE164 } from '@app/sms-provider/helpers';
import { textProblem } from '../common/http/request-rules';
import { SUPPRESSION_SCOPES, type SuppressionScope } from '../common/message-category';
import { MAX_REASON_LENGTH, MAX_SOURCE_LENGTH } from './suppression-limits';

/** An import is one transaction: this many rows fit in memory and commit in a few seconds. */
export const MAX_IMPORT_ROWS = 100_000;
/** Problems listed in a refusal; the count says how many there were in all. */
export const MAX_LISTED_PROBLEMS = 100;

/**
 * What an import reads: `to` and `scope`, optionally `reason` and `source`. `created_at` is
 * allowed and ignored, so that an export imports as it is (an entry is created when imported).
 */
export const IMPORT_COLUMNS = ['to', 'scope', 'reason', 'source', 'created_at'] as const;
export const EXPORT_COLUMNS = ['to', 'scope', 'reason', 'source', 'created_at'] as const;

export interface ImportRow {
  to: string;
  scope: SuppressionScope;
  reason: string | null;
  /** null: the import's own source (the query's, or csv_import). */
  source: string | null;
}

/** What is wrong with one line of the file (line 1 is the header). */
export interface LineProblem {
  line: number;
  problem: string;
}

export type ParsedImport =
  | { ok: true; rows: ImportRow[] }
  | { ok: false; problems: LineProblem[]; problemCount: number; tooManyRows?: false }
  | { ok: false; tooManyRows: true };

interface CsvRecord {
  /** The line the record starts on (a quoted field may span lines). */
  line: number;
  fields: string[];
}

/**
 * RFC 4180 records: fields split by commas, a field in double quotes may hold commas, line breaks
 * and doubled quotes; lines end in CRLF or LF. An unterminated quote is reported, not guessed.
 */
function* records(text: string): Generator<CsvRecord | LineProblem> {
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const start = line;
    const fields: string[] = [];
    let field = '';
    let quoted = false;
    let ended = false;
    while (i < text.length && !ended) {
      const c = text[i];
      if (quoted) {
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
          } else {
            quoted = false;
            i++;
          }
        } else {
          if (c === '\n') line++;
          field += c;
          i++;
        }
      } else if (c === '"' && field === '') {
        quoted = true;
        i++;
      } else if (c === ',') {
        fields.push(field);
        field = '';
        i++;
      } else if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) {
        i += c === '\r' ? 2 : 1;
        line++;
        ended = true;
      } else {
        field += c;
        i++;
      }
    }
    if (quoted) {
      yield { line: start, problem: 'a quoted field is never closed' };
      return;
    }
    fields.push(field);
    yield { line: start, fields };
  }
}

function isProblem(value: CsvRecord | LineProblem): value is LineProblem {
  return 'problem' in value;
}

/** The column of each name in the header, or why the header is not one this import reads. */
function readHeader(fields: string[]): Map<string, number> | string {
  const names = fields.map((f) => f.trim().toLowerCase());
  const columns = new Map<string, number>();
  for (const [index, name] of names.entries()) {
    if (!(IMPORT_COLUMNS as readonly string[]).includes(name) || columns.has(name)) {
      return (
        'the header must name the columns to,scope and optionally reason, source, created_at ' +
        `(got ${fields.join(',').slice(0, 100)})`
      );
    }
    columns.set(name, index);
  }
  if (!columns.has('to') || !columns.has('scope')) {
    return 'the header must name the columns to and scope (to,scope,reason)';
  }
  return columns;
}

/** The problems of one data line's values, none when the row can be stored. */
function rowProblems(to: string, scope: string, reason: string, source: string): string[] {
  const problems: string[] = [];
  if (!isE164(to)) problems.push('to is not a valid phone number in E.164 (+14155550100)');
  if (!(SUPPRESSION_SCOPES as readonly string[]).includes(scope)) {
    problems.push('scope must be marketing or all');
  }
  if (reason.length > MAX_REASON_LENGTH) {
    problems.push(`reason is longer than ${MAX_REASON_LENGTH} characters`);
  }
  const characters = textProblem(reason, true);
  if (characters !== null) problems.push(`reason ${characters}`);
  if (source.length > MAX_SOURCE_LENGTH) {
    problems.push(`source is longer than ${MAX_SOURCE_LENGTH} characters`);
  }
  const sourceCharacters = textProblem(source, false);
  if (sourceCharacters !== null) problems.push(`source ${sourceCharacters}`);
  return problems;
}

/**
 * The rows of an import file (`to,scope,reason`, header first), or every problem found, each
 * naming its line: the import is all or nothing, so the caller fixes the whole file at once.
 */
export function parseImport(text: string): ParsedImport {
  const problems: LineProblem[] = [];
  let problemCount = 0;
  const report = (line: number, problem: string) => {
    problemCount++;
    if (problems.length < MAX_LISTED_PROBLEMS) problems.push({ line, problem });
  };
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  let columns: Map<string, number> | undefined;
  const rows: ImportRow[] = [];
  let dataLines = 0;
  for (const record of records(body)) {
    if (isProblem(record)) {
      report(record.line, record.problem);
      break;
    }
    if (columns === undefined) {
      const header = readHeader(record.fields);
      if (typeof header === 'string') {
        report(record.line, header);
        break;
      }
      columns = header;
      continue;
    }
    // A blank line (the file's last line break, a gap) holds no entry.
    if (record.fields.length === 1 && record.fields[0].trim() === '') continue;
    if (++dataLines > MAX_IMPORT_ROWS) return { ok: false, tooManyRows: true };
    if (record.fields.length !== columns.size) {
      report(
        record.line,
        `has ${record.fields.length} fields; the header has ${columns.size} (quote a reason with commas)`,
      );
      continue;
    }
    const field = (name: string) => {
      const index = columns?.get(name);
      return index === undefined ? '' : record.fields[index].trim();
    };
    const [to, scope, reason, source] = ['to', 'scope', 'reason', 'source'].map(field);
    const found = rowProblems(to, scope, reason, source);
    for (const problem of found) report(record.line, problem);
    if (found.length === 0) {
      rows.push({
        to,
        scope: scope as SuppressionScope,
        reason: reason === '' ? null : reason,
        source: source === '' ? null : source,
      });
    }
  }
  if (columns === undefined && problemCount === 0) {
    report(1, 'the file is empty; the first line must be the header to,scope,reason');
  }
  return problemCount > 0 ? { ok: false, problems, problemCount } : { ok: true, rows };
}

/** A value a spreadsheet would run as a formula (OWASP "CSV injection") gets a leading quote. */
const FORMULA_TRIGGERS = new Set(['=', '+', '-', '@', '\t', '\r']);
const NEEDS_QUOTES = /[",\r\n]/;

function cell(value: string | null, guardFormula: boolean): string {
  if (value === null) return '';
  const safe = guardFormula && FORMULA_TRIGGERS.has(value[0] ?? '') ? `'${value}` : value;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export interface ExportRow {
  to: string;
  scope: string;
  reason: string | null;
  source: string | null;
  created_at: string;
}

export function exportHeader(): string {
  return `${EXPORT_COLUMNS.join(',')}\r\n`;
}

/**
 * Lines of the export, CRLF-terminated. The number is written as stored (`+` first) so that
 * another system, or this import, reads it back; the free-text cells are guarded against formulas.
 */
export function exportLines(rows: readonly ExportRow[]): string {
  let text = '';
  for (const row of rows) {
    text +=
      `${row.to},${row.scope},${cell(row.reason, true)},${cell(row.source, true)},` +
      `${row.created_at}\r\n`;
  }
  return text;
}
