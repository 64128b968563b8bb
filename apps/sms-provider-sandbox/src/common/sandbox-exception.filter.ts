import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { SandboxError } from './sandbox-error';
import { SandboxLogger } from './sandbox-logger';

export interface ErrorEnvelope {
  success: false;
  error: { code: string; message: string };
}

// Framework errors (unknown route, unparsable JSON, wrong content type) get a code in the
// provider's snake_case vocabulary so clients can treat every error the same way.
const CODE_BY_STATUS: Readonly<Record<number, string>> = {
  [HttpStatus.BAD_REQUEST]: 'invalid_request',
  [HttpStatus.NOT_FOUND]: 'not_found',
  [HttpStatus.METHOD_NOT_ALLOWED]: 'method_not_allowed',
  [HttpStatus.PAYLOAD_TOO_LARGE]: 'payload_too_large',
  [HttpStatus.UNSUPPORTED_MEDIA_TYPE]: 'unsupported_media_type',
};

/** The single place where anything thrown becomes the provider's error envelope. */
@Catch()
export class SandboxExceptionFilter implements ExceptionFilter {
  constructor(private readonly logger: SandboxLogger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { status, code, message } = this.describe(exception);
    const body: ErrorEnvelope = { success: false, error: { code, message } };
    void reply.status(status).send(body);
  }

  private describe(exception: unknown): { status: number; code: string; message: string } {
    if (exception instanceof SandboxError) {
      return { status: exception.status, code: exception.code, message: exception.message };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status < 500) {
        return {
          status,
          code: CODE_BY_STATUS[status] ?? 'invalid_request',
          message: exception.message,
        };
      }
    }
    // A bug in the sandbox: logged in full here, answered without internals like the real thing.
    this.logger.error(
      exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
      SandboxExceptionFilter.name,
    );
    return {
      status: HttpStatus.INTERNAL_SERVER_ERROR,
      code: 'server_error',
      message: 'Internal server error',
    };
  }
}
