/**
 * SMS length and segment arithmetic (3GPP TS 23.038, a.k.a. GSM 03.38).
 *
 * Written by hand rather than taken from `sms-segments-calculator`: that package counts
 * graphemes (not what the provider's 1600 limit counts), applies "smart encoding" substitutions
 * we do not perform, and brings a dependency for what is two small tables.
 */

/** The provider refuses a `message` longer than this (provider-api.md, "Sending SMS Messages"). */
export const MAX_MESSAGE_LENGTH = 1600;

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface MessageAnalysis {
  /**
   * Length in UTF-16 code units (JavaScript's `string.length`). The provider is a JSON/HTTP API
   * whose 1600 limit is, in practice, the length of the decoded string in a UTF-16 runtime; using
   * the same measure means our 422 `message_too_long` and the provider's agree at the boundary,
   * even if an emoji then counts as 2.
   */
  characters: number;
  encoding: SmsEncoding;
  segments: number;
}

// The default alphabet: one septet each. Escape (0x1B) is deliberately absent; it only ever
// appears as the prefix of an extension character.
const GSM7_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
    '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);

// The extension table: escape + one septet, so two septets each.
const GSM7_EXTENSION = new Set('\f^{}\\[~]|€');

const GSM7_SINGLE_MAX = 160;
// A concatenated message spends 6 octets per part on the user data header (7 septets).
const GSM7_PART_MAX = 153;
const UCS2_SINGLE_MAX = 70;
const UCS2_PART_MAX = 67;

/**
 * Counts the parts a phone would send, filling each part greedily. A unit that may not be split
 * (an escape pair in GSM-7, a surrogate pair in UCS-2) moves whole to the next part, as handsets
 * and carriers do, so the result can be one more than `ceil(total / perPart)` at a boundary.
 */
function countParts(unitSizes: readonly number[], total: number, single: number, perPart: number) {
  // An empty text still fits one (empty) SMS; that keeps "segments" a billing count, never 0.
  if (total <= single) return 1;
  let parts = 1;
  let used = 0;
  for (const size of unitSizes) {
    if (used + size > perPart) {
      parts += 1;
      used = 0;
    }
    used += size;
  }
  return parts;
}

/** Encoding, length and number of SMS parts of `text`, as the provider would bill it. */
export function analyzeMessage(text: string): MessageAnalysis {
  const gsmSizes: number[] = [];
  let septets = 0;
  let isGsm = true;
  for (const char of text) {
    const size = GSM7_BASIC.has(char) ? 1 : GSM7_EXTENSION.has(char) ? 2 : 0;
    if (size === 0) {
      isGsm = false;
      break;
    }
    gsmSizes.push(size);
    septets += size;
  }

  if (isGsm) {
    return {
      characters: text.length,
      encoding: 'GSM-7',
      segments: countParts(gsmSizes, septets, GSM7_SINGLE_MAX, GSM7_PART_MAX),
    };
  }

  // Iterating a string yields code points, so an astral character (emoji) is one 2-unit item.
  const ucsSizes: number[] = [];
  for (const char of text) ucsSizes.push(char.length);
  return {
    characters: text.length,
    encoding: 'UCS-2',
    segments: countParts(ucsSizes, text.length, UCS2_SINGLE_MAX, UCS2_PART_MAX),
  };
}

/**
 * The characters of `text` that GSM-7 cannot carry, each once, in order of first appearance: any
 * one of them makes the whole message UCS-2 (70 characters a part instead of 160). Astral
 * characters (emoji) come back whole, not as surrogate halves.
 */
export function ucs2Characters(text: string): string[] {
  const found = new Set<string>();
  for (const char of text) {
    if (!GSM7_BASIC.has(char) && !GSM7_EXTENSION.has(char)) found.add(char);
  }
  return [...found];
}

/** True when the provider would accept `text` as a message body length-wise. */
export function isWithinMessageLimit(text: string): boolean {
  return text.length <= MAX_MESSAGE_LENGTH;
}
