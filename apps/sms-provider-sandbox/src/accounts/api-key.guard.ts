import { CanActivate, ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { SandboxError } from '../common/sandbox-error';
import { getRequestContext } from '../common/request-context';
import { AccountsService } from './accounts.service';

/** The presented bearer token, or null; shared with the request log. */
export function bearerToken(authorization: string | string[] | undefined): string | null {
  if (typeof authorization !== 'string') return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return match ? match[1] : null;
}

@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(private readonly accounts: AccountsService) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const key = bearerToken(request.headers.authorization);
    if (key === null) {
      throw new SandboxError(
        HttpStatus.UNAUTHORIZED,
        'authentication_failed',
        'Missing API key: send "Authorization: Bearer <api key>"',
      );
    }
    const account = this.accounts.find(key);
    if (!account) {
      throw new SandboxError(HttpStatus.UNAUTHORIZED, 'authentication_failed', 'Invalid API key');
    }
    getRequestContext(request).account = account;
    return true;
  }
}
