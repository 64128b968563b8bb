import { BadRequestError } from '../errors/api-error';

/**
 * The rules every request's text obeys, whatever the route: one place, not a check per DTO.
 *
 * - JSON bodies nest at most `MAX_JSON_DEPTH` levels, measured on the raw text before
 *   anything parses or walks it (validation and class-transformer recurse, and a body nested
 *   150,000 levels deep used to overflow their stack);
 * - strings (JSON keys and values, path and query values, headers) hold no control characters
 *   (PostgreSQL refuses NUL outright, and the others have no place in an SMS or an identifier);
 *   only a JSON value may hold tab, line feed and carriage return, which message texts use;
 * - no lone UTF-16 surrogate: the driver would store it as U+FFFD, silently changing the text.
 */
export const MAX_JSON_DEPTH = 32;

/** C0 controls but tab, LF and CR; DEL; C1 controls. */
// eslint-disable-next-line no-control-regex
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
// eslint-disable-next-line no-control-regex
const CONTROL_ANYWHERE = /[\u0000-\u001F\u007F-\u009F]/;
/** With the `u` flag a proper pair is one code point: only a lone half is a surrogate. */
const LONE_SURROGATE = /\p{Cs}/u;

/** Why `value` may not be stored, or null. `multiline` allows tab, LF and CR. */
export function textProblem(value: string, multiline: boolean): string | null {
  if ((multiline ? CONTROL_IN_TEXT : CONTROL_ANYWHERE).test(value)) {
    return value.includes('\u0000') ? 'contains a NUL character' : 'contains a control character';
  }
  if (LONE_SURROGATE.test(value)) return 'contains a lone UTF-16 surrogate';
  return null;
}

/** True when `text` (JSON) opens more than `max` arrays/objects inside one another. */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A JSON request body under the rules above: depth first, on the raw text, then parsing, then
 * the strings. An empty body is `undefined` (a POST that needs none may still name JSON).
 * Throws 400 `invalid_json`, `json_too_deep` or `invalid_characters`.
 */
export function parseJsonBody(raw: Buffer | string): unknown {
  let text: string;
  try {
    text = typeof raw === 'string' ? raw : UTF8.decode(raw);
  } catch {
    // Decoding leniently would replace the bad bytes with U+FFFD behind the caller's back.
    throw new BadRequestError('The body is not valid UTF-8', undefined, 'invalid_json');
  }
  if (text.trim() === '') return undefined;
  checkJsonDepth(text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BadRequestError(
      `The body is not valid JSON: ${(error as Error).message}`,
      undefined,
      'invalid_json',
    );
  }
  checkJsonStrings(value);
  return value;
}

/** Throws 400 `json_too_deep` when `text` nests deeper than the limit. */
export function checkJsonDepth(text: string): void {
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new BadRequestError(
      `The JSON body nests more than ${MAX_JSON_DEPTH} levels of arrays or objects`,
      { max_depth: MAX_JSON_DEPTH },
      'json_too_deep',
    );
  }
}

/**
 * Throws 400 `invalid_characters` naming the first string of a parsed body (key or value) that
 * breaks the rules. The value is at most `MAX_JSON_DEPTH` deep, so plain recursion is safe.
 */
export function checkJsonStrings(value: unknown, path = ''): void {
  if (typeof value === 'string') {
    failIf(path || '(body)', textProblem(value, true));
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => checkJsonStrings(item, `${path}[${index}]`));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      const field = path ? `${path}.${key}` : key;
      failIf(`${field} (name)`, textProblem(key, false));
      // What prototype pollution needs; no field of ours is called that.
      if (key === '__proto__' || (key === 'prototype' && path.endsWith('constructor'))) {
        failIf(field, 'is a reserved name');
      }
      checkJsonStrings(item, field);
    }
  }
}

/** Throws 400 `invalid_characters` when a path, query or header value breaks the rules. */
export function checkRequestText(where: string, value: string): void {
  failIf(where, textProblem(value, false));
}

function failIf(field: string, problem: string | null): void {
  if (problem === null) return;
  throw new BadRequestError(`${field} ${problem}`, { field, problem }, 'invalid_characters');
}

/**
 * Query parameters as the raw URL has them: throws 400 `invalid_url` for a percent escape that
 * is not UTF-8 (Node would decode it to U+FFFD), and 400 `duplicate_query_parameter` for a name
 * given twice (no route takes lists in the query, and which one wins would be a guess).
 */
export function checkRawQuery(rawQuery: string): void {
  const seen = new Set<string>();
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const separator = pair.indexOf('=');
    const rawName = separator === -1 ? pair : pair.slice(0, separator);
    const rawValue = separator === -1 ? '' : pair.slice(separator + 1);
    const name = decode(rawName);
    const value = decode(rawValue);
    checkRequestText(`query parameter ${JSON.stringify(name)}`, name);
    checkRequestText(`query parameter ${name}`, value);
    if (seen.has(name)) {
      throw new BadRequestError(
        `Query parameter ${name} is given more than once`,
        { parameter: name },
        'duplicate_query_parameter',
      );
    }
    seen.add(name);
  }
}

function decode(component: string): string {
  try {
    return decodeURIComponent(component.replace(/\+/g, ' '));
  } catch {
    throw new BadRequestError(
      'The query string has a percent escape that is not UTF-8',
      undefined,
      'invalid_url',
    );
  }
}
