import type { OpenAPIObject } from '@nestjs/swagger';
import type {
  OperationObject,
  ResponsesObject,
  SchemaObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { REQUIRED_SCOPES_EXTENSION } from '../auth/auth.decorators';
import { summaryFor } from './operations';

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

function error(description: string) {
  return { description, content: { 'application/json': { schema: ENVELOPE } } };
}

/** The errors every operation of a kind can answer with, and the codes they carry. */
function sharedErrors(path: string, secured: boolean): ResponsesObject {
  const responses: ResponsesObject = {
    '400': error(
      'The request breaks the input rules or validation (`validation_failed`, `invalid_json`, ' +
        '`invalid_query`, …); `details` names the fields',
    ),
  };
  if (secured) {
    responses['401'] = error('No valid API key (`unauthorized`)');
    responses['403'] = error('The key lacks the scope of this operation (`forbidden`)');
  }
  if (path.includes('{')) responses['404'] = error('Nothing with this id or key (`*_not_found`)');
  return responses;
}

/**
 * The shared parts of every operation, filled in once: its summary, its security (the scope from
 * RequireScope, or none for public routes), and the error answers in the envelope schema.
 */
export function enrichDocument(document: OpenAPIObject): OpenAPIObject {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method] as (OperationObject & Record<string, unknown>) | undefined;
      if (!operation) continue;
      operation.summary ??= operation.operationId ? summaryFor(operation.operationId) : undefined;
      const scopes = operation[REQUIRED_SCOPES_EXTENSION] as string[] | undefined;
      const secured = scopes !== undefined;
      operation.security = secured ? [{ api_key: [] }] : [];
      if (secured) {
        const needs = `Requires an API key with the scope \`${scopes.join('`, `')}\` (or \`admin\`).`;
        operation.description = operation.description
          ? `${operation.description}\n\n${needs}`
          : needs;
      }
      operation.responses = { ...sharedErrors(path, secured), ...operation.responses };
    }
  }
  return document;
}
