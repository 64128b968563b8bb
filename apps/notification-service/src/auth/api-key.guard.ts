import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ForbiddenError, UnauthorizedError } from '../common/errors/api-error';
import { leaveOutAccessLine } from '../common/http/quiet-access-line';
import { ApiKeysService } from './api-keys.service';
import { AuthFailureLimiter } from './auth-failure-limiter';
import { type AuthenticatedRequest, PUBLIC_KEY, SCOPES_KEY } from './auth.decorators';
import type { Scope } from './scopes';

/** Global guard: every route needs a bearer key unless marked @Public(). */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeysService,
    private readonly failures: AuthFailureLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const quiet = () => leaveOutAccessLine(request.raw);
    await this.failures.check(request.ip, quiet);
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) {
      await this.failures.recordFailure(request.ip, quiet);
      throw new UnauthorizedError();
    }
    const principal = await this.keys.authenticate(match[1]);
    if (!principal) {
      await this.failures.recordFailure(request.ip, quiet);
      throw new UnauthorizedError('The API key is invalid or revoked', 'invalid_api_key');
    }
    request.principal = principal;

    const scope = this.reflector.getAllAndOverride<Scope | undefined>(SCOPES_KEY, targets);
    if (scope && !principal.isAdmin && !principal.scopes.has(scope)) {
      throw new ForbiddenError(`This API key lacks the scope ${scope}`, { required_scope: scope });
    }
    return true;
  }
}
