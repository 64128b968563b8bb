import type { FastifyInstance } from 'fastify';
import { bearerToken } from '../accounts/api-key.guard';
import { Clock } from '../common/clock';
import { attachRequestContext, getRequestContext } from '../common/request-context';
import { RequestLogService } from './request-log.service';

export const ADMIN_PREFIX = '/__admin';

/**
 * Fastify hooks rather than a Nest interceptor: onRequest runs before body parsing, routing and
 * guards, so the arrival time is as early as the framework allows, and onResponse also sees the
 * 404s and parse errors that never reach a controller. Admin calls are not provider traffic and
 * are left out of the log.
 */
export function registerRequestLogHooks(
  fastify: FastifyInstance,
  clock: Clock,
  requestLog: RequestLogService,
): void {
  fastify.addHook('onRequest', (request, _reply, done) => {
    const arrivedAt = clock.now();
    const path = request.url.split('?', 1)[0];
    const isAdmin = path === ADMIN_PREFIX || path.startsWith(`${ADMIN_PREFIX}/`);
    attachRequestContext(request, {
      arrivedAt,
      logEntry: isAdmin
        ? undefined
        : requestLog.start({
            at: arrivedAt,
            method: request.method,
            path,
            key: bearerToken(request.headers.authorization),
          }),
    });
    done();
  });

  fastify.addHook('onResponse', (request, reply, done) => {
    const entry = getRequestContext(request).logEntry;
    if (entry) requestLog.finish(entry, reply.statusCode);
    done();
  });
}
