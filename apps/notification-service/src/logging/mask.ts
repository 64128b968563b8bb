const PHONE = /\+\d{6,15}\b/g;
/**
 * A number as it appears in a URL: `+` percent-encoded (%2B), or a bare run of digits standing
 * alone in a path segment or a query value (an id's digit run inside a UUID is preceded by `-`).
 */
const URL_PHONE = /(%2B|\+|(?<=[/=]))(\d{6,15})(?=$|[/?&#;])/gi;

/** +14155550100 → +1415*****00: enough to tell numbers apart in logs, not enough to use one. */
export function maskPhone(phone: string): string {
  if (phone.length <= 7) return '*'.repeat(phone.length);
  return `${phone.slice(0, 5)}${'*'.repeat(phone.length - 7)}${phone.slice(-2)}`;
}

/** Masks every E.164-looking number inside free text (error messages, provider answers). */
export function maskPhonesIn(text: string): string {
  return text.replace(PHONE, (m) => maskPhone(m));
}

/** Masks numbers in a request URL, encoded or not, in the path and in the query string. */
export function maskPhonesInUrl(url: string): string {
  return maskPhonesIn(url).replace(URL_PHONE, (_all, plus: string, digits: string) => {
    const masked = maskPhone(`+${digits}`).slice(1);
    return `${plus}${masked}`;
  });
}

/**
 * A copy of `value` with every number in its strings masked (objects a few levels deep). Errors
 * and objects that are not plain data (requests, responses) are left to the logger's serializers.
 */
export function maskDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskPhonesIn(value);
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, depth + 1));
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = maskDeep(v, depth + 1);
  return out;
}
