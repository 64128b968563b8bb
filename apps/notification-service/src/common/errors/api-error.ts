/**
 * Every error the API answers with on purpose. The global filter turns it into the provider-style
 * envelope `{success: false, error: {code, message, details}}` with `status`.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export class BadRequestError extends ApiError {
  constructor(message: string, details?: unknown, code = 'validation_failed') {
    super(400, code, message, details);
  }
}

export class UnauthorizedError extends ApiError {
  constructor(
    message = 'A valid API key is required (Authorization: Bearer <key>)',
    code = 'unauthorized',
  ) {
    super(401, code, message);
  }
}

export class ForbiddenError extends ApiError {
  constructor(message: string, details?: unknown) {
    super(403, 'forbidden', message, details);
  }
}

export class NotFoundError extends ApiError {
  constructor(code: string, message: string) {
    super(404, code, message);
  }
}

export class ConflictError extends ApiError {
  constructor(code: string, message: string, details?: unknown, headers?: Record<string, string>) {
    super(409, code, message, details, headers);
  }
}

export class UnprocessableError extends ApiError {
  constructor(code: string, message: string, details?: unknown) {
    super(422, code, message, details);
  }
}

export class ServiceUnavailableError extends ApiError {
  constructor(code: string, message: string, details?: unknown) {
    super(503, code, message, details);
  }
}
