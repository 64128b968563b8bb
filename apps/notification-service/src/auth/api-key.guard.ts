import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ForbiddenError } from '../common/errors/api-error';
import { type AuthenticatedRequest, PUBLIC_KEY, SCOPES_KEY } from './auth.decorators';
import { RequestAuthenticator } from './request-authenticator';
import type { Scope } from './scopes';

/**
 * Global guard: every route needs a bearer key unless marked @Public(). The key is normally
 * checked already, before the body was read (authentication-gate.ts); this guard checks the scope.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: RequestAuthenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    request.principal ??= await this.authenticator.authenticate(request);
    const principal = request.principal;

    const scope = this.reflector.getAllAndOverride<Scope | undefined>(SCOPES_KEY, targets);
    if (scope && !principal.isAdmin && !principal.scopes.has(scope)) {
      throw new ForbiddenError(`This API key lacks the scope ${scope}`, { required_scope: scope });
    }
    return true;
  }
}
