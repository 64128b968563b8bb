import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuthenticatedRequest } from './auth.decorators';
import { isPublicRoute } from './auth.decorators';
import type { RequestAuthenticator } from './request-authenticator';

/** Every route under this needs a key unless marked @Public(); nothing outside it does. */
export const API_PREFIX = '/v1/';

/**
 * Authenticates in Fastify's onRequest hook, before the body is read or parsed: a caller with a
 * wrong key (or a blocked one) costs us the headers and one cached lookup, never its body. The
 * refusal closes the connection when a body is on its way, so its bytes are not even drained.
 * ApiKeyGuard then only checks scopes (and authenticates itself for a route this gate does not
 * cover, so that nothing depends on the prefix rule for safety).
 */
export function installAuthenticationGate(
  fastify: FastifyInstance,
  authenticator: RequestAuthenticator,
): void {
  fastify.addHook('onRequest', async (request: FastifyRequest, reply) => {
    const url = request.routeOptions.url;
    if (url === undefined || !url.startsWith(API_PREFIX)) return;
    if (isPublicRoute(request.routeOptions.config)) return;
    try {
      (request as AuthenticatedRequest).principal = await authenticator.authenticate(request);
    } catch (error) {
      if (hasBody(request)) void reply.header('connection', 'close');
      throw error;
    }
  });
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return (
    (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined
  );
}
