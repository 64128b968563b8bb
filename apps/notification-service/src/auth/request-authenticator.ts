import { isIP } from 'node:net';
import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { UnauthorizedError } from '../common/errors/api-error';
import { leaveOutAccessLine } from '../common/http/quiet-access-line';
import { ApiKeysService, KEY_PREFIX_LENGTH, KEY_SHAPE } from './api-keys.service';
import { AuthFailureLimiter } from './auth-failure-limiter';
import type { Principal } from './scopes';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Who a request's bearer key belongs to. A valid key is answered at once, whatever the address has
 * done before: only failures are counted and limited (AuthFailureLimiter), so a caller with a
 * stale key behind a shared address never locks out the others.
 */
@Injectable()
export class RequestAuthenticator {
  constructor(
    private readonly keys: ApiKeysService,
    private readonly failures: AuthFailureLimiter,
  ) {}

  /** The principal, or throws 401 (`unauthorized`, `invalid_api_key`) or 429 when blocked. */
  async authenticate(request: FastifyRequest): Promise<Principal> {
    const header = request.headers.authorization;
    const key = typeof header === 'string' ? (BEARER.exec(header)?.[1] ?? null) : null;
    const principal = key === null ? null : await this.keys.authenticate(key);
    if (principal) return principal;

    const keyPrefix = key !== null && KEY_SHAPE.test(key) ? key.slice(0, KEY_PREFIX_LENGTH) : null;
    // A forwarded "address" that is not one (a misconfigured proxy, a client writing the header
    // where it is believed) is not a subject: the peer's own address is.
    const address = isIP(request.ip) ? request.ip : (request.socket.remoteAddress ?? 'unknown');
    await this.failures.fail({ address, keyPrefix }, () => leaveOutAccessLine(request.raw));
    throw key === null
      ? new UnauthorizedError()
      : new UnauthorizedError('The API key is invalid or revoked', 'invalid_api_key');
  }
}
