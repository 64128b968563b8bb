import { HttpStatus } from '@nestjs/common';

/**
 * A provider error response: HTTP status plus the `{code, message}` of the provider's error
 * envelope. Services throw it; SandboxExceptionFilter turns it into the wire response.
 */
export class SandboxError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'SandboxError';
  }
}

export const missingParameter = (name: string) =>
  new SandboxError(
    HttpStatus.BAD_REQUEST,
    'missing_parameter',
    `The "${name}" parameter is required`,
  );

export const invalidParameter = (name: string, problem: string) =>
  new SandboxError(
    HttpStatus.BAD_REQUEST,
    'invalid_parameter',
    `The "${name}" parameter ${problem}`,
  );
