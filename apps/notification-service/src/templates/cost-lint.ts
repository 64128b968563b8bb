import { analyzeMessage, ucs2Characters } from '@app/sms-provider/helpers';
import { SMART_ENCODING_TABLE } from './smart-encoding';

/**
 * The cost lint: what in a text makes each recipient's message dearer than it needs to be.
 *
 * `forces_ucs2`: the text has characters GSM-7 cannot carry, so every part holds 70 characters
 * (67 when split) instead of 160 (153). `segments_without` is the text's cost once each of them is
 * dealt with the way an editor would: a look-alike in the smart-encoding table becomes its GSM-7
 * text (’ → '), anything else (emoji, letters GSM-7 lacks) is left out. `replaceable` lists the
 * ones `smart_encoding: true` would rewrite at render time.
 */
export interface CostWarning {
  code: 'forces_ucs2';
  /** Each character forcing UCS-2, once, in order of first appearance. */
  characters: string[];
  segments_now: number;
  segments_without: number;
  /** Those of `characters` smart encoding rewrites. */
  replaceable: string[];
}

export function costWarnings(text: string): CostWarning[] {
  const characters = ucs2Characters(text);
  if (characters.length === 0) return [];
  const forcing = new Set(characters);
  let without = '';
  for (const char of text) {
    without += forcing.has(char) ? (SMART_ENCODING_TABLE[char] ?? '') : char;
  }
  return [
    {
      code: 'forces_ucs2',
      characters,
      segments_now: analyzeMessage(text).segments,
      segments_without: analyzeMessage(without).segments,
      replaceable: characters.filter((char) => char in SMART_ENCODING_TABLE),
    },
  ];
}
