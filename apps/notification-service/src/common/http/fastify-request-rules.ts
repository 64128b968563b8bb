import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { codeForStatus, envelope } from '../errors/error-envelope';
import { checkRawQuery, checkRequestText, parseJsonBody } from './request-rules';

/**
 * Puts `request-rules` in front of every route of `fastify`:
 * - JSON is the only body type (anything else is 415), parsed by `parseJsonBody`; the raw bytes
 *   are kept as `rawBody`. Bodies of `unparsedBodyPaths` are not parsed at all: the webhook
 *   receiver checks the signature on the raw bytes first and parses only what is signed;
 * - path parameters, query values and headers are checked before any handler (or guard) runs.
 * Errors thrown here reach the application's exception filter, so they carry the envelope.
 */
export function installRequestRules(
  fastify: FastifyInstance,
  options: { unparsedBodyPaths: readonly string[] },
): void {
  const unparsed = new Set(options.unparsedBodyPaths);
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer' },
    (request: FastifyRequest & { rawBody?: Buffer }, body: Buffer, done) => {
      request.rawBody = body;
      if (unparsed.has(request.routeOptions.url ?? '')) {
        done(null, undefined);
        return;
      }
      try {
        done(null, parseJsonBody(body));
      } catch (error) {
        done(error as Error, undefined);
      }
    },
  );

  fastify.addHook('onRequest', (request, _reply, done) => {
    try {
      const url = request.raw.url ?? '';
      const queryStart = url.indexOf('?');
      if (queryStart !== -1) checkRawQuery(url.slice(queryStart + 1));
      for (const [name, value] of Object.entries(request.params as Record<string, unknown>)) {
        if (typeof value === 'string') checkRequestText(`path parameter ${name}`, value);
      }
      for (const [name, value] of Object.entries(request.headers)) {
        for (const one of Array.isArray(value) ? value : [value ?? '']) {
          // Tab is legal inside a header value (RFC 9110); Node already refuses CR, LF and NUL.
          checkRequestText(`header ${name}`, one.replace(/\t/g, ' '));
        }
      }
      done();
    } catch (error) {
      done(error as Error);
    }
  });
}

/**
 * Fastify's `frameworkErrors`: what its router refuses before any hook (a `%FF` that is not
 * UTF-8, a path segment over the parameter length limit) answered in the envelope.
 */
export function frameworkErrorReply(
  error: Error & { code?: string; statusCode?: number },
  _request: FastifyRequest,
  reply: FastifyReply,
): void {
  const status = error.statusCode ?? 400;
  const code =
    error.code === 'FST_ERR_BAD_URL'
      ? 'invalid_url'
      : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? 'uri_too_long'
        : codeForStatus(status);
  void reply.code(status).send(envelope(code, error.message.slice(0, 200)));
}

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser refuses (headers too large, a
 * malformed request line) answered in the envelope on the raw socket, then closed.
 */
export function clientErrorReply(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) return;
  const [status, code, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers_too_large', 'The request line or headers are too large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request_timeout', 'The request took too long to arrive']
        : [400, 'bad_request', 'The request is not valid HTTP'];
  const body = JSON.stringify(envelope(code, message));
  socket.end(
    `HTTP/1.1 ${status} ${code}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
