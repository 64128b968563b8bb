import { createHmac, timingSafeEqual } from 'node:crypto';

const HEX_SHA256 = /^[0-9a-f]{64}$/i;

/** Hex HMAC-SHA256 of `body` with `secret`: what the provider puts in X-SMSProvider-Signature. */
export function signWebhookPayload(body: string | Buffer, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/**
 * Checks an X-SMSProvider-Signature header against the raw request body.
 *
 * Unlike the provider's own example, this never throws: a missing header, an array header (a
 * repeated header), the wrong length or non-hex text are all just `false`. The comparison runs in
 * constant time over the decoded digest bytes, so neither case nor timing reveals anything.
 */
/**
 * Whether a signature header has the form of one (64 hex digits): what a receiver can check before
 * it reads a body at all.
 */
export function isWebhookSignatureShaped(signatureHeader: unknown): boolean {
  return typeof signatureHeader === 'string' && HEX_SHA256.test(signatureHeader.trim());
}

export function verifyWebhookSignature(
  rawBody: string | Buffer | null | undefined,
  signatureHeader: unknown,
  secret: string,
): boolean {
  if (rawBody === null || rawBody === undefined || !secret) return false;
  if (!isWebhookSignatureShaped(signatureHeader)) return false;
  const candidate = (signatureHeader as string).trim();
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return timingSafeEqual(Buffer.from(candidate, 'hex'), expected);
}

/** Builds a valid signed request for tests: the body exactly as sent and its header value. */
export function generateTestWebhook(
  payload: unknown,
  secret: string,
): { body: string; signature: string; headers: Record<string, string> } {
  const body = JSON.stringify(payload);
  const signature = signWebhookPayload(body, secret);
  return {
    body,
    signature,
    headers: { 'content-type': 'application/json', 'x-smsprovider-signature': signature },
  };
}
