import type { OpenAPIObject } from '@nestjs/swagger';
import type {
  OperationObject,
  ResponsesObject,
  SchemaObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { REQUIRED_SCOPES_EXTENSION } from '../auth/auth.decorators';
import {
  OPERATION_FACTS_EXTENSION,
  type OperationFacts,
} from '../common/openapi/operation.decorator';
import { ERROR_MESSAGES } from './errors';

export const ERROR_ENVELOPE_SCHEMA: SchemaObject = {
  type: 'object',
  description: 'Every error answer, whatever the status.',
  required: ['success', 'error'],
  properties: {
    success: { type: 'boolean', enum: [false] },
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'Stable, snake_case', example: 'validation_failed' },
        message: { type: 'string', example: 'to must be an E.164 number' },
        details: { description: 'Per-field problems or other context, when there is any' },
      },
    },
  },
  example: {
    success: false,
    error: {
      code: 'validation_failed',
      message: 'Request validation failed',
      details: [{ field: 'to', problem: 'must be an E.164 number' }],
    },
  },
};

const ENVELOPE = { $ref: '#/components/schemas/ErrorEnvelope' };
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/** One error answer: its codes in the description, and one example per code. */
function error(description: string, codes: readonly string[]) {
  const examples = Object.fromEntries(
    codes.map((code) => [
      code,
      {
        summary: code,
        value: { success: false, error: { code, message: ERROR_MESSAGES[code] ?? code } },
      },
    ]),
  );
  const list = codes.map((code) => `\`${code}\``).join(', ');
  return {
    description: `${description} (${list})`,
    content: { 'application/json': { schema: ENVELOPE, examples } },
  };
}

const SHARED = {
  400: {
    what: 'The request breaks the input rules or validation; `details` names the fields',
    codes: [
      'validation_failed',
      'invalid_json',
      'json_too_deep',
      'invalid_characters',
      'duplicate_query_parameter',
      'invalid_url',
    ],
  },
  401: { what: 'No valid API key', codes: ['unauthorized', 'invalid_api_key'] },
  403: { what: 'The key lacks the scope of this operation', codes: ['forbidden'] },
  404: { what: 'Nothing with this id or key', codes: ['not_found'] },
  413: { what: 'The body is too large', codes: ['payload_too_large'] },
  415: { what: 'The body is not JSON', codes: ['unsupported_media_type'] },
  503: {
    what: 'The database is unavailable; `Retry-After` says when to try again',
    codes: ['database_unavailable'],
  },
  429: {
    what: 'Too many failed authentications from this address; `Retry-After` says when to come back',
    codes: ['too_many_failed_authentications'],
  },
} as const;

/** Codes every operation of its kind may answer with, documented by `sharedErrors`. */
export const SHARED_ERROR_CODES: readonly string[] = Object.values(SHARED).flatMap((s) => s.codes);

const STATUS_WORDS: Record<string, string> = {
  '400': SHARED[400].what,
  '401': 'The request is not authentic',
  '402': 'Over a budget: the team has used or reserved its provider credits for the month',
  '409': 'A conflict with the current state; safe to retry only where the code says so',
  '422': 'Well-formed, but cannot be done as asked',
  '429': 'Too many: a limit of the caller or its team; `Retry-After` says when to come back',
  '503': 'A dependency did not answer in time; try again later',
};

/** The errors every operation of a kind can answer with, and the codes they carry. */
function sharedErrors(
  method: string,
  path: string,
  secured: boolean,
  usesDatabase: boolean,
  notFound: readonly string[],
): ResponsesObject {
  const responses: ResponsesObject = { '400': error(SHARED[400].what, SHARED[400].codes) };
  if (secured) {
    responses['401'] = error(SHARED[401].what, SHARED[401].codes);
    responses['403'] = error(SHARED[403].what, SHARED[403].codes);
    responses['429'] = error(SHARED[429].what, SHARED[429].codes);
  }
  if (secured || usesDatabase) responses['503'] = error(SHARED[503].what, SHARED[503].codes);
  if (path.includes('{') || notFound.length > 0) {
    responses['404'] = error(SHARED[404].what, notFound.length > 0 ? notFound : SHARED[404].codes);
  }
  if (method === 'post' || method === 'put' || method === 'patch') {
    responses['413'] = error(SHARED[413].what, SHARED[413].codes);
    responses['415'] = error(SHARED[415].what, SHARED[415].codes);
  }
  return responses;
}

/** The operation's own answers, from its `@Operation` errors. */
function operationErrors(facts: OperationFacts, withDatabase: boolean): ResponsesObject {
  const responses: ResponsesObject = {};
  for (const [status, codes] of Object.entries(facts.errors ?? {})) {
    if (status === '404' || !codes) continue;
    // A 400, 429 or 503 of its own adds to the shared codes.
    const all =
      status === '400'
        ? [...SHARED[400].codes, ...codes]
        : status === '429'
          ? [...codes, ...SHARED[429].codes]
          : status === '503' && withDatabase
            ? [...codes, ...SHARED[503].codes]
            : codes;
    responses[status] = error(STATUS_WORDS[status], all);
  }
  return responses;
}

/**
 * OpenAPI 3.0 has no null type: `nullable` only widens the schema's own `type`, so a nullable
 * reference (`allOf: [$ref]`) and a nullable enum still refuse null when validated, and generated
 * clients type them as never null. Rewritten so that null is one of the allowed values.
 */
function allowNull(schema: unknown): void {
  if (typeof schema !== 'object' || schema === null) return;
  const node = schema as Record<string, unknown>;
  if (node.nullable === true && Array.isArray(node.allOf) && node.allOf.length === 1) {
    const [reference] = node.allOf as unknown[];
    delete node.allOf;
    delete node.type;
    node.anyOf = [reference, { type: 'object', nullable: true, enum: [null] }];
    delete node.nullable;
  }
  if (node.nullable === true && Array.isArray(node.enum) && !node.enum.includes(null)) {
    node.enum = [...(node.enum as unknown[]), null];
  }
  for (const value of Object.values(node)) {
    if (Array.isArray(value)) value.forEach(allowNull);
    else allowNull(value);
  }
}

/** A CSV or plain-text answer is a string, whatever DTO the controller returned it from. */
function textAnswersAreStrings(operation: OperationObject): void {
  for (const answer of Object.values(operation.responses)) {
    if (!answer || !('content' in answer) || !answer.content) continue;
    for (const [type, media] of Object.entries(answer.content)) {
      if (type.startsWith('text/')) media.schema = { type: 'string' };
    }
  }
}

/** The operation's example answer (`@Operation`), where its success answer has none of its own. */
function addSuccessExample(operation: OperationObject, facts: OperationFacts): void {
  for (const [status, answer] of Object.entries(operation.responses)) {
    if (!status.startsWith('2') || !answer || !('content' in answer) || !answer.content) continue;
    for (const [type, media] of Object.entries(answer.content)) {
      if (media.example !== undefined || media.examples !== undefined) continue;
      const example = type === 'application/json' ? facts.example : facts.textExamples?.[type];
      if (example !== undefined) media.example = example;
    }
  }
}

/**
 * The shared parts of every operation, filled in once: its summary, error codes and example from
 * the handler's `@Operation`, its security (the scope from RequireScope, or none for public
 * routes), and the error answers in the envelope schema.
 */
export function enrichDocument(document: OpenAPIObject): OpenAPIObject {
  for (const schema of Object.values(document.components?.schemas ?? {})) allowNull(schema);
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method] as (OperationObject & Record<string, unknown>) | undefined;
      if (!operation) continue;
      // The handler's facts travel as an extension; read once, they are not part of the document.
      const facts = (operation[OPERATION_FACTS_EXTENSION] ?? { id: '' }) as OperationFacts;
      delete operation[OPERATION_FACTS_EXTENSION];
      operation.summary ??= facts.summary;
      const scopes = operation[REQUIRED_SCOPES_EXTENSION] as string[] | undefined;
      const secured = scopes !== undefined;
      operation.security = secured ? [{ api_key: [] }] : [];
      if (secured) {
        const needs = `Requires an API key with the scope \`${scopes.join('`, `')}\` (or \`admin\`).`;
        operation.description = operation.description
          ? `${operation.description}\n\n${needs}`
          : needs;
      }
      const own = facts.errors ?? {};
      // Every authenticated operation reads the database, and so does the webhook receiver.
      const usesDatabase = secured || operation.operationId === 'receiveProviderWebhook';
      const errors = {
        ...sharedErrors(method, path, secured, usesDatabase, own[404] ?? []),
        ...operationErrors(facts, usesDatabase),
      };
      // Where a controller said more about an error than the catalogue (who gets a 404, which
      // templates a key may change), its words stay; the catalogue adds the schema and examples.
      for (const [status, answer] of Object.entries(errors)) {
        const declared = operation.responses[status] as { description?: string } | undefined;
        if (declared?.description && answer && 'description' in answer) {
          answer.description = declared.description;
        }
      }
      operation.responses = { ...operation.responses, ...errors };
      addSuccessExample(operation, facts);
      textAnswersAreStrings(operation);
    }
  }
  return document;
}
