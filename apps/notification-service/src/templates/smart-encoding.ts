/**
 * Smart encoding: the look-alikes that editors and phones type in place of plain ASCII, and the
 * GSM-7 text each becomes. One of them is enough to send a whole message as UCS-2 (70 characters
 * a part instead of 160), so a template with `smart_encoding` has them rewritten when it is
 * rendered, before the text is measured, stored and sent.
 *
 * Only characters whose meaning survives the swap are listed: quotes, dashes, the ellipsis,
 * spaces and invisible marks. Letters with accents GSM-7 lacks (ï, ł, ş), emoji and other scripts
 * are left alone: rewriting them would change the words, so the cost lint names them instead.
 * The table is what docs/api.md shows; change both together.
 */
export const SMART_ENCODING_TABLE: Readonly<Record<string, string>> = {
  // Single quotes and apostrophes, the prime.
  '\u2018': "'", // ‘
  '\u2019': "'", // ’
  '\u201A': "'", // ‚
  '\u201B': "'", // ‛
  '\u2032': "'", // ′
  // Double quotes, guillemets, the double prime.
  '\u201C': '"', // “
  '\u201D': '"', // ”
  '\u201E': '"', // „
  '\u201F': '"', // ‟
  '\u00AB': '"', // «
  '\u00BB': '"', // »
  '\u2033': '"', // ″
  // Hyphens, dashes and the minus sign.
  '\u2010': '-', // hyphen
  '\u2011': '-', // non-breaking hyphen
  '\u2012': '-', // figure dash
  '\u2013': '-', // – en dash
  '\u2014': '-', // — em dash
  '\u2015': '-', // horizontal bar
  '\u2212': '-', // − minus
  // The ellipsis, as the three dots it stands for.
  '\u2026': '...', // …
  // Spaces: no-break, the typographic widths, the ideographic space.
  '\u00A0': ' ',
  '\u2000': ' ',
  '\u2001': ' ',
  '\u2002': ' ',
  '\u2003': ' ',
  '\u2004': ' ',
  '\u2005': ' ',
  '\u2006': ' ',
  '\u2007': ' ',
  '\u2008': ' ',
  '\u2009': ' ',
  '\u200A': ' ',
  '\u202F': ' ',
  '\u205F': ' ',
  '\u3000': ' ',
  // Invisible marks pasted along with text: nothing to show, so nothing to send. (Joiners
  // inside emoji sequences are kept: the emoji makes the text UCS-2 anyway.)
  '\u200B': '', // zero-width space
  '\u2060': '', // word joiner
  '\uFEFF': '', // byte order mark
};

/** One kind of look-alike a render rewrote. */
export interface SmartReplacement {
  character: string;
  replacement: string;
  count: number;
}

export interface SmartEncoded {
  text: string;
  /** Each character rewritten, once, in order of first appearance, with how often. */
  replaced: SmartReplacement[];
}

const LOOK_ALIKES = new RegExp(`[${Object.keys(SMART_ENCODING_TABLE).join('')}]`, 'gu');

/** `text` with every look-alike in the table rewritten; characters outside it are kept as they are. */
export function smartEncode(text: string): SmartEncoded {
  const counts = new Map<string, number>();
  const rewritten = text.replace(LOOK_ALIKES, (char) => {
    counts.set(char, (counts.get(char) ?? 0) + 1);
    return SMART_ENCODING_TABLE[char];
  });
  return {
    text: rewritten,
    replaced: [...counts].map(([character, count]) => ({
      character,
      replacement: SMART_ENCODING_TABLE[character],
      count,
    })),
  };
}
