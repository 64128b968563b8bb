import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_MESSAGES, OPERATION_ERRORS } from './errors';
import { SHARED_ERROR_CODES } from './enrich';

const SOURCE = join(__dirname, '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('spec.ts') ? [path] : [];
  });
}

/**
 * Every error code the service can answer with, read from where errors are made: the typed
 * errors' constructors (the code is the first string, or the last for a 400 and 401) and the
 * template errors' `readonly code`.
 */
function thrownCodes(): Set<string> {
  const codes = new Set<string>();
  const made =
    /new (?:NotFound|Conflict|Unprocessable|ServiceUnavailable)Error\(\s*'([a-z_]+)'|new ApiError\(\s*\d{3},\s*'([a-z_]+)'|readonly code = '([a-z_]+)'/g;
  const lastArgument = /new (?:BadRequest|Unauthorized)Error\((?:[^;]*?),\s*'([a-z_]+)',?\s*\)/gs;
  for (const file of sourceFiles(SOURCE)) {
    if (file.includes(`${join('openapi', 'errors.ts')}`)) continue;
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(made)) codes.add(match[1] ?? match[2] ?? match[3]);
    for (const match of text.matchAll(lastArgument)) codes.add(match[1]);
  }
  return codes;
}

describe('the error catalogue of the OpenAPI document', () => {
  const thrown = thrownCodes();
  // The typed errors' own defaults (BadRequestError, UnauthorizedError, ForbiddenError).
  for (const code of ['validation_failed', 'unauthorized', 'forbidden']) thrown.add(code);
  const documented = new Set([
    ...SHARED_ERROR_CODES,
    ...Object.values(OPERATION_ERRORS).flatMap((byStatus) => Object.values(byStatus).flat()),
  ]);

  it('finds the codes it looks for (the scan itself works)', () => {
    for (const code of ['template_exists', 'message_too_long', 'invalid_signature', 'not_ready']) {
      expect(thrown.has(code)).toBe(true);
    }
  });

  it('documents every code the service throws under some operation', () => {
    expect([...thrown].filter((code) => !documented.has(code)).sort()).toEqual([]);
  });

  it('lists no code the service never throws, and gives every one a message', () => {
    // Answered by the error filter itself, for a whole kind of error rather than one place.
    const generic = new Set([
      'not_found',
      'payload_too_large',
      'unsupported_media_type',
      'database_unavailable',
    ]);
    expect(
      [...documented].filter((code) => !thrown.has(code) && !generic.has(code)).sort(),
    ).toEqual([]);
    expect([...documented].filter((code) => !(code in ERROR_MESSAGES)).sort()).toEqual([]);
  });
});
