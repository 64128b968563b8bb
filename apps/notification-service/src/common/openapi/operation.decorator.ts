import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension, ApiOperation } from '@nestjs/swagger';

/** The statuses an operation adds codes to beyond the ones every operation of its kind shares. */
export type ErrorStatus = 400 | 401 | 402 | 404 | 409 | 422 | 429 | 503;

/** What the OpenAPI document says of one operation that the route and its DTOs cannot. */
export interface OperationFacts {
  /** What generated clients call it (`sendNotification`): chosen, not derived from class names. */
  readonly id: string;
  /**
   * One line. Left out only where the handler's `@ApiOperation` gives the summary beside a longer
   * description; `error-catalogue.spec.ts` checks that every operation has exactly one.
   */
  readonly summary?: string;
  /**
   * Codes by status beyond the shared ones (validation, authentication, scope, 404 on a path with
   * an id, body size): a 404 list replaces the generic `not_found`, a 400 or 503 list adds to it.
   * `error-catalogue.spec.ts` checks that every code the service throws is listed somewhere.
   */
  readonly errors?: Partial<Record<ErrorStatus, readonly string[]>>;
  /** The JSON success answer as a caller sees it; `redocly lint` checks it against the schema. */
  readonly example?: unknown;
  /** Examples of the text answers, by media type (`text/csv`, `text/plain`). */
  readonly textExamples?: Readonly<Record<string, string>>;
}

const OPERATION_FACTS = 'openapi:operation';

/** The extension the document's enrichment pass reads the facts from, then removes. */
export const OPERATION_FACTS_EXTENSION = 'x-operation-facts';

/**
 * The OpenAPI facts of a handler, beside it: its id and summary, the error codes it answers with
 * and an example answer. The document builder reads them from the operation it generates.
 */
export const Operation = (facts: OperationFacts): MethodDecorator =>
  applyDecorators(
    SetMetadata(OPERATION_FACTS, facts),
    // `summary: undefined` keeps a summary the handler's own @ApiOperation gives.
    ApiOperation({ operationId: facts.id, summary: undefined }),
    ApiExtension(OPERATION_FACTS_EXTENSION, facts),
  );

/** The facts `@Operation` put on a handler, if it has any. */
export function operationFactsOf(handler: object): OperationFacts | undefined {
  return Reflect.getMetadata(OPERATION_FACTS, handler) as OperationFacts | undefined;
}
