import type { Account } from '../accounts/account';
import type { RequestLogEntry } from '../request-log/request-log.service';

/** What the sandbox learns about a request as it passes the hooks and guards. */
export interface RequestContext {
  /** Epoch ms taken in the onRequest hook: the moment that rate limiting and the request log use. */
  arrivedAt: number;
  logEntry?: RequestLogEntry;
  account?: Account;
}

// Keyed by the Fastify request object (hooks, guards and filters all see the same one); a WeakMap
// keeps this out of Fastify's global request type and lets entries die with their requests.
const contexts = new WeakMap<object, RequestContext>();

export function attachRequestContext(request: object, context: RequestContext): void {
  contexts.set(request, context);
}

export function getRequestContext(request: object): RequestContext {
  let context = contexts.get(request);
  if (!context) {
    // Only requests that bypassed the onRequest hook (none in practice) take this path.
    context = { arrivedAt: Date.now() };
    contexts.set(request, context);
  }
  return context;
}
