import { CanActivate, ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SandboxError } from '../common/sandbox-error';
import { getRequestContext } from '../common/request-context';
import { SEND_ROUTE } from '../faults/fault-target.decorator';
import { FaultsService } from '../faults/faults.service';
import { AccountsService } from './accounts.service';
import { RateLimiterService } from './rate-limiter.service';

/**
 * Runs after ApiKeyGuard. The X-RateLimit-* headers go on the reply here, before anything can
 * fail, so every authenticated response carries them, errors included.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly accounts: AccountsService,
    private readonly limiter: RateLimiterService,
    private readonly faults: FaultsService,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const { account, arrivedAt } = getRequestContext(request);
    if (!account) throw new Error('RateLimitGuard must run after ApiKeyGuard');

    const decision = this.limiter.consume(
      account.key,
      this.accounts.rateLimitOf(account),
      arrivedAt,
    );
    const isSendRoute =
      this.reflector.get<boolean | undefined>(SEND_ROUTE, context.getHandler()) === true;
    const forced = this.faults.shouldRateLimit(isSendRoute);
    const remaining = forced ? 0 : decision.remaining;
    void reply.headers({
      'x-ratelimit-limit': String(decision.limit),
      'x-ratelimit-remaining': String(remaining),
      'x-ratelimit-reset': String(decision.resetSeconds),
    });
    if (forced || !decision.allowed) {
      void reply.header('retry-after', String(decision.resetSeconds));
      throw new SandboxError(
        HttpStatus.TOO_MANY_REQUESTS,
        'rate_limit_exceeded',
        `API rate limit exceeded: ${decision.limit} requests per second on the ${account.plan} plan`,
      );
    }
    return true;
  }
}
