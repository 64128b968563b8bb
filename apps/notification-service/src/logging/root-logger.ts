import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ServerResponse } from 'node:http';
import pino, { type DestinationStream, type Logger } from 'pino';
import { accessStatusOf } from './access-status';
import { maskDeep, maskPhonesInUrl, maskText, maskUrl } from './mask';

export const REQUEST_ID_HEADER = 'x-request-id';
/** What we accept from a caller as a request id: short, printable, no spaces. */
const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** Headers worth a line in the access log; everything else (keys, signatures) stays out. */
const LOGGED_HEADERS = ['user-agent', 'content-type', 'content-length', REQUEST_ID_HEADER];
/** Keys the serializers own: the logMethod hook hands them over untouched. */
const SERIALIZED = new Set(['req', 'res', 'err', 'error']);

type SerializedRequest = {
  id: unknown;
  method: string;
  url: string;
  query?: unknown;
  params?: unknown;
  headers?: Record<string, unknown>;
  remoteAddress?: string;
};

/** A header value as a caller wrote it: masked by the rules of free text and of a URL's parts. */
function maskHeader(value: string): string {
  return maskText(maskPhonesInUrl(`/${value}`).slice(1));
}

/** Serializers mask what they copy, so `req`/`res` reach them intact (status code included). */
export const serializers = {
  req(req: SerializedRequest) {
    const headers: Record<string, unknown> = {};
    for (const name of LOGGED_HEADERS) {
      const value = req.headers?.[name];
      if (typeof value === 'string') headers[name] = maskHeader(value);
    }
    return {
      method: req.method,
      url: maskUrl(String(req.url)),
      headers,
      remote_address: req.remoteAddress,
    };
  },
  /**
   * The status the client was sent: pino's copy says null for a response never sent and the
   * object itself 200 (its initial value), so it is read from the exchange (access-status.ts).
   */
  res(res: { statusCode: number | null; raw?: ServerResponse }) {
    return { statusCode: res.raw ? accessStatusOf(res.raw).statusCode : res.statusCode };
  },
  err(err: unknown) {
    const serialized = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
    return maskDeep(serialized);
  },
};

/**
 * The JSON logger of the process: level as text, ISO time, numbers masked in every string an
 * object passes (request, response and error by their serializers).
 */
export function createRootLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'notification-service' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: serializers.err, error: serializers.err },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map(maskArgument) as typeof args);
        },
      },
    },
    // Synchronous: a fatal line written just before process.exit() must not be lost.
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

function maskArgument(arg: unknown): unknown {
  if (typeof arg === 'string') return maskText(arg);
  if (arg === null || typeof arg !== 'object' || arg instanceof Error) return arg;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(arg)) {
    out[key] = SERIALIZED.has(key) ? value : maskDeep(value);
  }
  return out;
}

/**
 * The caller's X-Request-Id when it is sane, else a new one. Fastify assigns it (so its request,
 * the raw one pino-http sees and our hooks share one id) and bootstrap echoes it on every answer.
 * An id that is (or holds) a phone number or a key is not sane: it would be written unmasked
 * into every line of the request, and echoed back.
 */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && ACCEPTABLE_REQUEST_ID.test(given) && !holdsSecret(given)
    ? given
    : randomUUID();
}

function holdsSecret(id: string): boolean {
  return maskHeader(id) !== id;
}
