import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiError } from './api-error';
import { isDatabaseUnavailable } from './database-unavailable';
import { codeForStatus, envelope } from './error-envelope';

/** How soon a caller may try again after the database was unreachable. */
const DATABASE_RETRY_AFTER_S = 2;

/**
 * The one place errors become HTTP answers. Known errors keep their status and code; anything
 * unexpected is logged and answered as a 500 without internals.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');
  private databaseDownLoggedAt = Number.NEGATIVE_INFINITY;

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { status, body, headers } = this.describe(exception);
    if (headers) void reply.headers(headers);
    void reply.status(status).send(body);
  }

  private describe(exception: unknown): {
    status: number;
    body: ReturnType<typeof envelope>;
    headers?: Record<string, string>;
  } {
    if (exception instanceof ApiError) {
      return {
        status: exception.status,
        body: envelope(exception.code, exception.message, exception.details),
        headers: exception.headers,
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      return { status, body: envelope(codeForStatus(status), httpMessage(exception)) };
    }
    const fastifyStatus = fastifyErrorStatus(exception);
    if (fastifyStatus !== null) {
      return {
        status: fastifyStatus,
        body: envelope(codeForStatus(fastifyStatus), (exception as Error).message),
      };
    }
    if (isDatabaseUnavailable(exception)) {
      // Every request fails the same way while it lasts: one line per half minute tells it.
      if (Date.now() - this.databaseDownLoggedAt > 30_000) {
        this.logger.error(`Database unavailable: ${errorText(exception)}`);
        this.databaseDownLoggedAt = Date.now();
      }
      return {
        status: 503,
        body: envelope(
          'database_unavailable',
          'The database is unavailable; try again shortly (with the same Idempotency-Key, a retry never creates a second notification)',
        ),
        headers: { 'retry-after': String(DATABASE_RETRY_AFTER_S) },
      };
    }
    this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    return { status: 500, body: envelope('internal_error', 'Internal server error') };
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function httpMessage(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : exception.message;
}

/** Fastify's own errors (bad JSON, body too large, wrong content type) carry a 4xx statusCode. */
export function fastifyErrorStatus(error: unknown): number | null {
  if (!(error instanceof Error)) return null;
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : null;
}
