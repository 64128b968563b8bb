import {
  applyDecorators,
  createParamDecorator,
  type ExecutionContext,
  SetMetadata,
} from '@nestjs/common';
import 'reflect-metadata';
import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants';
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

/** Fastify route config of a public route, which the authentication gate reads before the body. */
const PUBLIC_ROUTE_CONFIG = { public: true } as const;

export function isPublicRoute(config: unknown): boolean {
  return (config as { public?: unknown } | undefined)?.public === true;
}

/**
 * The route needs no API key (health, metrics, docs, provider webhooks). On a class it marks every
 * handler: Nest's Fastify adapter passes route config to Fastify from handlers only.
 */
export const Public = (): ClassDecorator & MethodDecorator =>
  ((target: object, property?: string | symbol, descriptor?: PropertyDescriptor) => {
    if (descriptor) {
      markPublic(descriptor.value as object);
      return descriptor;
    }
    Reflect.defineMetadata(PUBLIC_KEY, true, target);
    const prototype = (target as { prototype: Record<string, unknown> }).prototype;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      if (name !== 'constructor' && typeof prototype[name] === 'function') {
        markPublic(prototype[name]);
      }
    }
    return undefined;
  }) as ClassDecorator & MethodDecorator;

function markPublic(handler: object): void {
  Reflect.defineMetadata(PUBLIC_KEY, true, handler);
  const config: unknown = Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, handler);
  Reflect.defineMetadata(
    FASTIFY_ROUTE_CONFIG_METADATA,
    { ...(config ?? {}), ...PUBLIC_ROUTE_CONFIG },
    handler,
  );
}

export type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Principal => {
    const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    if (!principal) throw new Error('CurrentPrincipal used on a route without authentication');
    return principal;
  },
);
