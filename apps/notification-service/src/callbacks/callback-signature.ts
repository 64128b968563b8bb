import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Signing of status callbacks in the manner of Standard Webhooks (https://www.standardwebhooks.com):
 *
 *   webhook-id:        the callback delivery id, the same on every retry (deduplicate on it)
 *   webhook-timestamp: Unix time in seconds of this attempt
 *   webhook-signature: `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<raw body>">`, possibly several
 *                      separated by spaces
 *
 * The HMAC key is the base64-decoded part of the `whsec_…` secret, not the secret text itself.
 * This file depends on `node:crypto` only, so callers may copy it as it is (see docs/callbacks.md).
 */

export const CALLBACK_SECRET_PREFIX = 'whsec_';
export const DEFAULT_TOLERANCE_SECONDS = 300;

const SECRET_BYTES = 32;
const SHA256_BYTES = 32;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const UNIX_SECONDS = /^\d{1,12}$/;
/** Enough for any real rotation; bounds the work an attacker can ask of a verifier. */
const MAX_SIGNATURES = 16;

// A type alias, not an interface, so that it is assignable to a plain header record.
export type CallbackSignatureHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

/** A Fetch `Headers`, a Node `IncomingHttpHeaders` or any plain record of header values. */
export type CallbackHeadersInput =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | number | null | undefined>>;

export interface SignCallbackInput {
  id: string;
  /** When the request is sent: a Date, or Unix time in whole seconds. */
  timestamp: Date | number;
  /** The exact bytes that go on the wire. */
  body: string | Buffer;
  secret: string;
}

export interface VerifyCallbackInput {
  /** The raw request body, before any JSON parsing: re-serialized JSON will not verify. */
  body: string | Buffer;
  headers: CallbackHeadersInput;
  secret: string;
  /** How far the timestamp may be from `now`, either way. */
  toleranceSeconds?: number;
  now?: Date;
}

/** A new secret: `whsec_` and the base64 of 32 random bytes. */
export function generateCallbackSecret(): string {
  return `${CALLBACK_SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;
}

/** The three headers to send with `body`. Throws on a malformed secret, id or timestamp. */
export function signCallback({
  id,
  timestamp,
  body,
  secret,
}: SignCallbackInput): CallbackSignatureHeaders {
  const key = secretKey(secret);
  if (!key) throw new TypeError(`The callback secret must be ${CALLBACK_SECRET_PREFIX}<base64>`);
  if (typeof id !== 'string' || id.length === 0)
    throw new TypeError('The callback id must be a non-empty string');
  const seconds = timestamp instanceof Date ? Math.floor(timestamp.getTime() / 1000) : timestamp;
  if (!Number.isSafeInteger(seconds) || seconds < 0) {
    throw new RangeError('The timestamp must be a Date or a whole number of Unix seconds');
  }
  const signature = hmac(key, id, String(seconds), body).toString('base64');
  return {
    'webhook-id': id,
    'webhook-timestamp': String(seconds),
    'webhook-signature': `v1,${signature}`,
  };
}

/**
 * True when one of the signatures in `webhook-signature` is ours for this id, timestamp and body,
 * and the timestamp is within `toleranceSeconds` of now (a replayed or delayed request fails).
 * Never throws: anything missing, repeated or malformed is simply `false`. Signatures are compared
 * in constant time over the decoded bytes.
 */
export function verifyCallback({
  body,
  headers,
  secret,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
  now = new Date(),
}: VerifyCallbackInput): boolean {
  try {
    if (typeof body !== 'string' && !Buffer.isBuffer(body)) return false;
    const key = secretKey(secret);
    const id = header(headers, 'webhook-id');
    const timestamp = header(headers, 'webhook-timestamp');
    const signatures = header(headers, 'webhook-signature');
    if (!key || !id || !timestamp || !signatures) return false;

    if (!UNIX_SECONDS.test(timestamp)) return false;
    if (!Number.isFinite(toleranceSeconds) || toleranceSeconds < 0) return false;
    const nowSeconds = Math.floor(now.getTime() / 1000);
    if (!Number.isFinite(nowSeconds)) return false;
    if (Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) return false;

    const candidates = signatures.split(' ').filter((s) => s.length > 0);
    if (candidates.length === 0 || candidates.length > MAX_SIGNATURES) return false;
    const expected = hmac(key, id, timestamp, body);
    let valid = false;
    for (const candidate of candidates) {
      const comma = candidate.indexOf(',');
      if (comma < 0 || candidate.slice(0, comma) !== 'v1') continue;
      const encoded = candidate.slice(comma + 1);
      if (!BASE64.test(encoded)) continue;
      const decoded = Buffer.from(encoded, 'base64');
      // Every candidate is compared, so the time taken does not tell which one matched.
      if (decoded.length === SHA256_BYTES && timingSafeEqual(decoded, expected)) valid = true;
    }
    return valid;
  } catch {
    return false;
  }
}

/**
 * A correctly signed callback for receivers' tests: the body as it would arrive and its headers.
 * Saves tests from computing HMACs by hand.
 */
export function generateTestCallback(
  payload: unknown,
  secret: string,
  options: { id?: string; timestamp?: Date | number } = {},
): { body: string; headers: CallbackSignatureHeaders & { 'content-type': string } } {
  const body = JSON.stringify(payload);
  const headers = signCallback({
    id: options.id ?? `test_${randomBytes(8).toString('hex')}`,
    timestamp: options.timestamp ?? new Date(),
    body,
    secret,
  });
  return { body, headers: { 'content-type': 'application/json', ...headers } };
}

function secretKey(secret: unknown): Buffer | null {
  if (typeof secret !== 'string') return null;
  const encoded = secret.startsWith(CALLBACK_SECRET_PREFIX)
    ? secret.slice(CALLBACK_SECRET_PREFIX.length)
    : secret;
  if (!BASE64.test(encoded)) return null;
  const key = Buffer.from(encoded, 'base64');
  return key.length > 0 ? key : null;
}

function hmac(key: Buffer, id: string, timestamp: string, body: string | Buffer): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
}

/** One header value, case-insensitively; a repeated header counts as missing. */
function header(headers: CallbackHeadersInput, name: string): string | null {
  if (typeof headers !== 'object' || headers === null) return null;
  if ('get' in headers && typeof headers.get === 'function') {
    const value: unknown = headers.get(name);
    return typeof value === 'string' ? value.trim() : null;
  }
  const record = headers as Readonly<Record<string, unknown>>;
  const found = Object.keys(record).filter((k) => k.toLowerCase() === name);
  if (found.length !== 1) return null;
  let value = record[found[0]];
  if (Array.isArray(value)) value = value.length === 1 ? (value[0] as unknown) : null;
  return typeof value === 'string' ? value.trim() : null;
}
