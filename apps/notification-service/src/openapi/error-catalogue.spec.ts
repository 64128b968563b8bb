import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { METHOD_METADATA } from '@nestjs/common/constants';
import { type OperationFacts, operationFactsOf } from '../common/openapi/operation.decorator';
import { ERROR_MESSAGES } from './errors';
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
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(made)) codes.add(match[1] ?? match[2] ?? match[3]);
    for (const match of text.matchAll(lastArgument)) codes.add(match[1]);
  }
  return codes;
}

/** @nestjs/swagger's metadata keys (not exported); the scan's own test notices a rename. */
const API_OPERATION = 'swagger/apiOperation';
const API_EXCLUDE_ENDPOINT = 'swagger/apiExcludeEndpoint';

type Handler = { name: string; handler: object };

/** Every route handler of every controller the document is made from (excluded ones aside). */
async function routeHandlers(): Promise<Handler[]> {
  const controllers = sourceFiles(SOURCE).filter((file) => file.endsWith('.controller.ts'));
  const handlers: Handler[] = [];
  for (const file of controllers) {
    const exported = (await import(file)) as Record<string, unknown>;
    for (const value of Object.values(exported)) {
      if (typeof value !== 'function') continue;
      const prototype = value.prototype as Record<string, unknown>;
      for (const key of Object.getOwnPropertyNames(prototype)) {
        const handler = prototype[key];
        if (typeof handler !== 'function' || key === 'constructor') continue;
        if (!Reflect.hasMetadata(METHOD_METADATA, handler)) continue;
        if (Reflect.getMetadata(API_EXCLUDE_ENDPOINT, handler)) continue;
        handlers.push({ name: `${value.name}.${key}`, handler });
      }
    }
  }
  return handlers;
}

describe('the operations of the OpenAPI document', () => {
  let handlers: Handler[];
  beforeAll(async () => {
    handlers = await routeHandlers();
  });

  it('finds the handlers it looks for (the scan itself works)', () => {
    const names = handlers.map((h) => h.name);
    expect(names).toEqual(
      expect.arrayContaining(['NotificationsController.send', 'MetricsController.scrape']),
    );
    // Left out of the document, so it needs no facts.
    expect(names).not.toContain('HealthController.legacy');
    const get = handlers.find((h) => h.name === 'MessagesController.get');
    expect(Reflect.getMetadata(API_OPERATION, get?.handler ?? {})).toHaveProperty('summary');
  });

  it('gives every handler its facts with @Operation, each id once', () => {
    expect(handlers.filter((h) => !operationFactsOf(h.handler)).map((h) => h.name)).toEqual([]);
    const ids = handlers.map((h) => operationFactsOf(h.handler)?.id);
    expect(ids.filter((id, index) => ids.indexOf(id) !== index)).toEqual([]);
  });

  it('gives every handler one summary: in @Operation, or in its own @ApiOperation', () => {
    const twiceOrNone = handlers.filter(({ handler }) => {
      const own = (Reflect.getMetadata(API_OPERATION, handler) as { summary?: string })?.summary;
      return (operationFactsOf(handler)?.summary === undefined) === (own === undefined);
    });
    expect(twiceOrNone.map((h) => h.name)).toEqual([]);
  });
});

describe('the error catalogue of the OpenAPI document', () => {
  const thrown = thrownCodes();
  let documented: Set<string>;
  beforeAll(async () => {
    const facts = (await routeHandlers()).map(
      (h) => operationFactsOf(h.handler) ?? ({} as OperationFacts),
    );
    documented = new Set([
      ...SHARED_ERROR_CODES,
      ...facts.flatMap((f) => Object.values(f.errors ?? {}).flat()),
    ]);
  });
  // The typed errors' own defaults (BadRequestError, UnauthorizedError, ForbiddenError).
  for (const code of ['validation_failed', 'unauthorized', 'forbidden']) thrown.add(code);

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
