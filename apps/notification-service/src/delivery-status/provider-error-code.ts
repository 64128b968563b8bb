/**
 * The longest error code kept: the same bound as the `error_code` filter of GET /v1/messages, so
 * that every stored code can be searched for.
 */
export const MAX_ERROR_CODE_LENGTH = 64;

/** The longest error message kept (stored, returned, parked). */
export const MAX_ERROR_MESSAGE_LENGTH = 500;

/**
 * A provider's error code as we store and return it: lower case, runs of anything but
 * a-z 0-9 _ . - turned into one `_`, at most MAX_ERROR_CODE_LENGTH characters. The provider's
 * documented codes (`invalid_phone_number`…) pass unchanged; a free-form code of any length
 * cannot grow a row, an answer or a log line. Null when nothing is left.
 */
export function storedErrorCode(raw: string): string | null {
  const code = raw
    // Only the head can survive: the rest is never looked at.
    .slice(0, MAX_ERROR_CODE_LENGTH * 4)
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '_')
    .replace(/^_+/, '')
    .slice(0, MAX_ERROR_CODE_LENGTH)
    .replace(/_+$/, '');
  return code === '' ? null : code;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Free text from the provider cut to `max` characters, never inside a surrogate pair, and with
 * no lone surrogate left (PostgreSQL's jsonb refuses one).
 */
export function boundedText(text: string, max = MAX_ERROR_MESSAGE_LENGTH): string {
  let cut = text.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  if (text.length > max && last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return cut.replace(LONE_SURROGATE, '\uFFFD');
}

/** A failure's error as stored: its code and message bounded as above. */
export function boundedError(
  error: { code: string; message: string | null } | null,
): { code: string; message: string | null } | null {
  if (!error) return null;
  return {
    code: storedErrorCode(error.code) ?? 'unknown',
    message: error.message === null ? null : boundedText(error.message),
  };
}
