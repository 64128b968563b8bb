/**
 * A number that starts with + (or tel:+), its digits together or in groups split by one space,
 * dot or dash, a group perhaps in parentheses: +14155550100, +1 415 555 0100, +1-415-555-0100,
 * +1 (415) 555-0100, tel:+14155550100. Which groups belong to the number is decided in
 * `maskInternational` (at most 15 digits, E.164's length).
 */
const INTERNATIONAL = /(tel:)?\+(\d+(?:[ .-]?\(\d+\)|(?:[ .-]|(?<=\)))\d+)*)/gi;
/**
 * A North American number without its +: (415) 555-0100, 415-555-0100, 415.555.0100,
 * 415 555 0100, 1-415-555-0100; not a piece of a longer run (a date, an address, a version).
 */
const NATIONAL =
  /(?<![\w+]|\d[ .-])(?:1[ .-])?(?:\(\d{3}\)[ .]?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\w]|[.-]\d)/g;
/** tel: followed by a number without its +. */
const TEL = /tel:(?!\+)(\d[\d ().-]*\d)/gi;
/**
 * A number as it appears in a URL: `+` percent-encoded (%2B), or a bare run of digits standing
 * alone in a path segment or a query value (an id's digit run inside a UUID is preceded by `-`).
 */
const URL_PHONE = /(%2B|\+|(?<=[/=]))(\d{6,15})(?=$|[/?&#;])/gi;

/** Fewer digits than this is no phone number (a count, an amount, a year). */
const MIN_DIGITS = 6;
const MAX_DIGITS = 15;

/** Digits a masked number keeps at its start, and at most at its end. */
const SHOWN_HEAD = 2;
const SHOWN_TAIL = 4;
/** A masked number hides at least this many digits, however short it is. */
const HIDDEN_AT_LEAST = 3;

/**
 * 14155550100 → 14*****0100. Six digits shown, as many as a prefix and two last digits would be,
 * but spent on the end: numbers handed out in a row (…0100, …0400) differ only there, and an
 * operator must tell them apart; the hidden middle still makes the number unusable.
 */
function maskDigits(digits: string): string {
  if (digits.length < SHOWN_HEAD + HIDDEN_AT_LEAST + 2) return '*'.repeat(digits.length);
  const tail = Math.min(SHOWN_TAIL, digits.length - SHOWN_HEAD - HIDDEN_AT_LEAST);
  const hidden = digits.length - SHOWN_HEAD - tail;
  return `${digits.slice(0, SHOWN_HEAD)}${'*'.repeat(hidden)}${digits.slice(-tail)}`;
}

/** +14155550100 → +14*****0100: enough to tell numbers apart, not enough to use one. */
export function maskPhone(phone: string): string {
  return phone.startsWith('+') ? `+${maskDigits(phone.slice(1))}` : maskDigits(phone);
}

/** 4155550100 → 41****0100: a number without its country code, masked the same way. */
function maskNationalDigits(digits: string): string {
  return maskDigits(digits);
}

/**
 * The groups that make one number: a number written together is complete, else groups are taken
 * while there are at most 15 digits (what follows, a date after a space say, is left as it is).
 */
function maskInternational(all: string, tel: string | undefined, body: string): string {
  const groups = body.match(/[ .-]?\(?\d+\)?/g) ?? [];
  let taken = '';
  let digits = '';
  for (const [i, group] of groups.entries()) {
    const more = group.replace(/\D/g, '');
    const wholeAlready = i === 1 && digits.length >= 7;
    if (i > 0 && (wholeAlready || digits.length + more.length > MAX_DIGITS)) break;
    taken += group;
    digits += more;
  }
  if (digits.length < MIN_DIGITS) return all;
  return `${tel ?? ''}${maskPhone(`+${digits}`)}${body.slice(taken.length)}`;
}

/**
 * Masks every phone number inside free text (error messages, provider answers, log lines): E.164
 * with or without spaces, dashes, dots or parentheses, tel: URIs, and North American numbers
 * written without their +.
 */
export function maskPhonesIn(text: string): string {
  return text
    .replace(INTERNATIONAL, (all, tel: string | undefined, body: string) =>
      maskInternational(all, tel, body),
    )
    .replace(TEL, (all, number: string) => {
      const digits = number.replace(/\D/g, '');
      return digits.length >= MIN_DIGITS ? `tel:${maskNationalDigits(digits)}` : all;
    })
    .replace(NATIONAL, (all) => maskNationalDigits(all.replace(/\D/g, '')));
}

/** Percent-decoding that never throws (a malformed escape leaves the text as it was). */
function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * One path segment or query value: masked as written when the number is plain, else decoded
 * (`%2B1%20415…`; in a query `+` may stand for a space) and shown masked in decoded form.
 */
function maskUrlPart(part: string, inQuery: boolean): string {
  const plain = maskPhonesIn(part);
  if (plain !== part) return plain;
  const forms = inQuery ? [decoded(part), decoded(part.replace(/\+/g, ' '))] : [decoded(part)];
  for (const form of forms) {
    const masked = maskPhonesIn(form);
    if (masked !== form) return masked;
  }
  return part;
}

/** Masks numbers in a request URL, encoded or not, formatted or not, in its path and query. */
export function maskPhonesInUrl(url: string): string {
  const together = url.replace(URL_PHONE, (_all, plus: string, digits: string) => {
    const masked = maskPhone(`+${digits}`).slice(1);
    return `${plus}${masked}`;
  });
  const query = together.indexOf('?');
  const path = query < 0 ? together : together.slice(0, query);
  const maskedPath = path
    .split('/')
    .map((segment) => maskUrlPart(segment, false))
    .join('/');
  if (query < 0) return maskedPath;
  const maskedQuery = together
    .slice(query + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return maskUrlPart(pair, true);
      return `${pair.slice(0, eq + 1)}${maskUrlPart(pair.slice(eq + 1), true)}`;
    })
    .join('&');
  return `${maskedPath}?${maskedQuery}`;
}

/** Our API keys (nk_ + 32), and whsec_ signing secrets: the key prefix stays, to tell keys apart. */
const KEYS = /\b(nk_[A-Za-z0-9_-]{5})[A-Za-z0-9_-]{20,}|\b(whsec_)[A-Za-z0-9+/=_-]{8,}/g;

/** Masks API keys and signing secrets inside free text. */
export function maskKeysIn(text: string): string {
  return text.replace(
    KEYS,
    (_all, keyPrefix: string | undefined, secret: string | undefined) =>
      `${keyPrefix ?? secret}[redacted]`,
  );
}

/** Query parameters whose value is a credential, whatever it looks like. */
const SECRET_PARAMETER =
  /^(?:.*[_-])?(?:key|apikey|token|secret|password|passwd|pwd|signature|sig|auth|authorization|credentials?)$/i;

/** Replaces the value of every credential-named query parameter (?api_key=, ?token=…). */
export function maskSecretsInUrl(url: string): string {
  const query = url.indexOf('?');
  if (query < 0) return maskKeysIn(url);
  const pairs = url
    .slice(query + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      return eq >= 0 && SECRET_PARAMETER.test(decoded(name)) ? `${name}=[redacted]` : pair;
    });
  return maskKeysIn(`${url.slice(0, query)}?${pairs.join('&')}`);
}

/** Numbers and keys masked in a line of free text: what every logged string goes through. */
export function maskText(text: string): string {
  return maskKeysIn(maskPhonesIn(text));
}

/** Numbers, keys and credential parameters masked in a request URL. */
export function maskUrl(url: string): string {
  return maskSecretsInUrl(maskPhonesInUrl(url));
}

/**
 * A copy of `value` with every number and key in its strings masked (objects a few levels deep).
 * Errors and objects that are not plain data (requests, responses) are left to the logger's
 * serializers.
 */
export function maskDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskText(value);
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, depth + 1));
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = maskDeep(v, depth + 1);
  return out;
}
