import { analyzeMessage, ucs2Characters } from '@app/sms-provider/helpers';
import fc from 'fast-check';
import { SMART_ENCODING_TABLE, smartEncode } from './smart-encoding';

/** Every GSM-7 character (basic and extension): what a plain template is made of. */
const GSM7 = [...Array.from({ length: 0x400 }, (_, i) => String.fromCharCode(i)), '€'].filter(
  (char) => ucs2Characters(char).length === 0,
);
const LOOK_ALIKES = Object.keys(SMART_ENCODING_TABLE);

describe(smartEncode.name, () => {
  it('rewrites curly quotes, dashes, the ellipsis and odd spaces, and says what it replaced', () => {
    expect(smartEncode('It’s “done” – really… ok\u00A0now’')).toEqual({
      text: 'It\'s "done" - really... ok now\'',
      replaced: [
        { character: '’', replacement: "'", count: 2 },
        { character: '“', replacement: '"', count: 1 },
        { character: '”', replacement: '"', count: 1 },
        { character: '–', replacement: '-', count: 1 },
        { character: '…', replacement: '...', count: 1 },
        { character: '\u00A0', replacement: ' ', count: 1 },
      ],
    });
  });

  it('leaves what would change the words: emoji and letters GSM-7 lacks', () => {
    expect(smartEncode('Zażółć 😀 naïve')).toEqual({ text: 'Zażółć 😀 naïve', replaced: [] });
  });

  it('maps every look-alike to GSM-7 text (or to nothing, for invisible marks)', () => {
    for (const [char, replacement] of Object.entries(SMART_ENCODING_TABLE)) {
      expect(ucs2Characters(char)).toEqual([char]);
      expect(ucs2Characters(replacement)).toEqual([]);
    }
  });

  it('makes a text GSM-7 whenever its only non-GSM characters were look-alikes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...GSM7, ...LOOK_ALIKES), { maxLength: 400 }),
        (chars) => {
          const { text } = smartEncode(chars.join(''));
          expect(analyzeMessage(text).encoding).toBe('GSM-7');
        },
      ),
    );
  });

  it('changes nothing in a GSM-7 text, and a second pass changes nothing more', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        const once = smartEncode(text).text;
        expect(smartEncode(once)).toEqual({ text: once, replaced: [] });
        if (ucs2Characters(text).length === 0) expect(once).toBe(text);
      }),
    );
  });
});
