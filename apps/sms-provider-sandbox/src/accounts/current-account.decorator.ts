import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { getRequestContext } from '../common/request-context';
import type { Account } from './account';

/** The account ApiKeyGuard authenticated. */
export const CurrentAccount = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Account => {
    const account = getRequestContext(context.switchToHttp().getRequest<FastifyRequest>()).account;
    if (!account) throw new Error('@CurrentAccount() needs ApiKeyGuard on the route');
    return account;
  },
);
