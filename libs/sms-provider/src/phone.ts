// The `max` metadata knows each country's real number ranges; `min` would accept any number of the
// right length, letting numbers the provider will reject with invalid_phone_number through.
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

// E.164: '+', a country code that never starts with 0, at most 15 digits in all. Checked before
// libphonenumber because its parser is lenient (spaces, dashes, letters as keypad digits).
const E164_SHAPE = /^\+[1-9]\d{1,14}$/;

/** True when `value` is a string written exactly in E.164 form and is a valid, assigned number. */
export function isE164(value: unknown): boolean {
  if (typeof value !== 'string' || !E164_SHAPE.test(value)) return false;
  const parsed = parsePhoneNumberFromString(value);
  return parsed !== undefined && parsed.isValid() && parsed.number === value;
}

/**
 * The E.164 form of a number written with or without separators ("+1 (415) 555-0100"), or null
 * when it is not a valid international number. Without a leading '+' the country is unknowable,
 * so such input is null rather than guessed.
 */
export function normalizeE164(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  if (!trimmed.startsWith('+')) return null;
  // Letters would be read as keypad digits ("+1-800-FLOWERS"); an SMS recipient never has them.
  if (/[a-z]/i.test(trimmed)) return null;
  const parsed = parsePhoneNumberFromString(trimmed);
  if (parsed === undefined || !parsed.isValid()) return null;
  return parsed.number;
}
