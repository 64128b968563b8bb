import {
  applyDecorators,
  createParamDecorator,
  type ExecutionContext,
  SetMetadata,
} from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { Principal, Scope } from './scopes';

export const SCOPES_KEY = 'auth:scopes';
export const PUBLIC_KEY = 'auth:public';

/** OpenAPI extension naming the scope an operation needs (the document's security pass reads it). */
export const REQUIRED_SCOPES_EXTENSION = 'x-required-scopes';

/** The route needs a key holding this scope (or `admin`); the OpenAPI document says which. */
export const RequireScope = (scope: Scope) =>
  applyDecorators(SetMetadata(SCOPES_KEY, scope), ApiExtension(REQUIRED_SCOPES_EXTENSION, [scope]));

/** The route needs no API key (health, metrics, docs, provider webhooks). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

export type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Principal => {
    const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    if (!principal) throw new Error('CurrentPrincipal used on a route without authentication');
    return principal;
  },
);
