import { isWebhookSignatureShaped } from '@app/sms-provider/helpers';
import type { FastifyInstance } from 'fastify';
import { ApiError, UnauthorizedError } from '../common/errors/api-error';
import { ACCOUNT_WEBHOOK_ROUTE, PROVIDER_WEBHOOK_PATH } from '../config/app-config';

/**
 * A provider event is a few hundred bytes; this leaves room for long error texts and future
 * fields while keeping an unauthenticated body (which must be read to check its HMAC) small.
 */
export const WEBHOOK_BODY_LIMIT_BYTES = 64 * 1024;

export const SIGNATURE_HEADER = 'x-smsprovider-signature';

/**
 * What the webhook route refuses before it reads a byte of the body: no signature, or one that
 * cannot be a signature (401), and a declared body over WEBHOOK_BODY_LIMIT_BYTES (413). The
 * connection is closed with the answer, so the refused body is not even drained.
 */
export function installWebhookGate(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.url;
    if (route !== PROVIDER_WEBHOOK_PATH && route !== ACCOUNT_WEBHOOK_ROUTE) return;
    if (!isWebhookSignatureShaped(request.headers[SIGNATURE_HEADER])) {
      void reply.header('connection', 'close');
      throw new UnauthorizedError(
        'Missing or invalid X-SMSProvider-Signature',
        'invalid_signature',
      );
    }
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > WEBHOOK_BODY_LIMIT_BYTES) {
      void reply.header('connection', 'close');
      throw new ApiError(
        413,
        'payload_too_large',
        `A provider event has at most ${WEBHOOK_BODY_LIMIT_BYTES} bytes`,
        { max_bytes: WEBHOOK_BODY_LIMIT_BYTES },
      );
    }
  });
}
