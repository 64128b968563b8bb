import type { FastifyInstance, FastifyRequest } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { ADMIN_PREFIX } from '../request-log/request-log.hooks';
import { FaultsService } from './faults.service';

/** Admin calls are not provider traffic: never delayed. */
function isAdmin(request: FastifyRequest): boolean {
  const path = request.url.split('?', 1)[0];
  return path === ADMIN_PREFIX || path.startsWith(`${ADMIN_PREFIX}/`);
}

/**
 * A network between client and sandbox, one way at a time: the forward delay runs in the first
 * onRequest hook, so it has to be registered before the request log's hooks, and the request is
 * stamped, rate-limited and handled only once it has "arrived"; the return delay holds the finished
 * answer back in onSend. The client sees both in its round trip, the sandbox's clock only the
 * arrival. Fastify serves one request at a time per connection, so a keep-alive connection keeps
 * its order as TCP would; separate connections overtake each other as jitter makes them.
 */
export function registerNetworkDelayHooks(fastify: FastifyInstance, faults: FaultsService): void {
  fastify.addHook('onRequest', async (request) => {
    if (isAdmin(request)) return;
    const ms = faults.forwardDelay();
    if (ms > 0) await sleep(ms);
  });
  fastify.addHook('onSend', async (request, _reply, payload) => {
    if (isAdmin(request)) return payload;
    const ms = faults.returnDelay();
    if (ms > 0) await sleep(ms);
    return payload;
  });
}
