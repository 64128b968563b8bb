import {
  analyzeMessage,
  isWithinMessageLimit,
  MAX_MESSAGE_LENGTH,
  ucs2Characters,
} from './segments';

describe(analyzeMessage.name, () => {
  describe('GSM-7', () => {
    it.each([
      [1, 1],
      [160, 1],
      [161, 2],
      [306, 2],
      [307, 3],
      [459, 3],
      [460, 4],
      [1530, 10],
      [1600, 11],
    ])('%i plain characters → %i segment(s)', (length, segments) => {
      expect(analyzeMessage('a'.repeat(length))).toEqual({
        characters: length,
        encoding: 'GSM-7',
        segments,
      });
    });

    it('keeps the whole basic alphabet, including accented letters and Greek capitals, in GSM-7', () => {
      const basic =
        '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
        '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
      expect(analyzeMessage(basic).encoding).toBe('GSM-7');
    });

    it.each(['€', '{', '}', '[', ']', '~', '|', '^', '\\', '\f'])(
      'counts the extension character %j as two septets',
      (char) => {
        expect(analyzeMessage(char.repeat(80))).toMatchObject({ encoding: 'GSM-7', segments: 1 });
        expect(analyzeMessage(char.repeat(81))).toMatchObject({ encoding: 'GSM-7', segments: 2 });
      },
    );

    it('reports characters, not septets', () => {
      expect(analyzeMessage('€'.repeat(80)).characters).toBe(80);
    });

    it('mixes single and double septets: 158 letters + one € = 160 septets → 1 segment', () => {
      expect(analyzeMessage(`${'a'.repeat(158)}€`).segments).toBe(1);
      expect(analyzeMessage(`${'a'.repeat(159)}€`).segments).toBe(2);
    });

    it('does not split an escape pair across two parts', () => {
      // 152 letters then '€': the pair would straddle the 153-septet boundary, so it moves to
      // part two; 152 + 2 + 152 = 306 septets still need a third part for the last letter.
      const text = `${'a'.repeat(152)}€${'a'.repeat(152)}`;
      expect(analyzeMessage(text).segments).toBe(3);
      expect(analyzeMessage(`${'a'.repeat(151)}€${'a'.repeat(153)}`).segments).toBe(2);
    });
  });

  describe('UCS-2', () => {
    it('switches to UCS-2 for one emoji and counts it as two code units', () => {
      expect(analyzeMessage('Your code is 1234 😀')).toEqual({
        characters: 20,
        encoding: 'UCS-2',
        segments: 1,
      });
    });

    it('switches to UCS-2 for a character outside GSM 03.38 (ç lower-case, Cyrillic)', () => {
      expect(analyzeMessage('ç').encoding).toBe('UCS-2');
      expect(analyzeMessage('привет').encoding).toBe('UCS-2');
    });

    it.each([
      [70, 1],
      [71, 2],
      [134, 2],
      [135, 3],
    ])('%i UCS-2 characters → %i segment(s)', (length, segments) => {
      expect(analyzeMessage('ж'.repeat(length))).toEqual({
        characters: length,
        encoding: 'UCS-2',
        segments,
      });
    });

    it('counts emoji in code units: 35 emoji = 70 units → 1, 36 → 2', () => {
      expect(analyzeMessage('😀'.repeat(35))).toMatchObject({ characters: 70, segments: 1 });
      expect(analyzeMessage('😀'.repeat(36))).toMatchObject({ characters: 72, segments: 2 });
    });

    it('does not split a surrogate pair across two parts', () => {
      // 66 units then an emoji: it cannot start at unit 67 of part one.
      expect(analyzeMessage(`${'ж'.repeat(66)}😀${'ж'.repeat(66)}`).segments).toBe(3);
      expect(analyzeMessage(`${'ж'.repeat(65)}😀${'ж'.repeat(67)}`).segments).toBe(2);
    });

    it('a GSM-7 text with one non-GSM character is measured by the UCS-2 limits', () => {
      expect(analyzeMessage(`${'a'.repeat(100)}ç`)).toMatchObject({
        encoding: 'UCS-2',
        segments: 2,
      });
    });
  });

  it('treats the empty message as one (empty) segment', () => {
    expect(analyzeMessage('')).toEqual({ characters: 0, encoding: 'GSM-7', segments: 1 });
  });
});

describe('MAX_MESSAGE_LENGTH', () => {
  it('is the provider limit of 1600 characters', () => {
    expect(MAX_MESSAGE_LENGTH).toBe(1600);
    expect(isWithinMessageLimit('a'.repeat(1600))).toBe(true);
    expect(isWithinMessageLimit('a'.repeat(1601))).toBe(false);
  });
});

describe(ucs2Characters.name, () => {
  it('names each character outside GSM-7 once, in order of first appearance', () => {
    expect(ucs2Characters('It’s “done” – it’s 😀 done')).toEqual(['’', '“', '”', '–', '😀']);
  });

  it('names nothing in a GSM-7 text, extension characters included', () => {
    expect(ucs2Characters('Price: 5€ [ok] {x} ~^|\\ @£$¥ èé')).toEqual([]);
  });

  it('agrees with analyzeMessage: a text is UCS-2 exactly when it names something', () => {
    for (const text of ['plain', 'naïve', 'ok…', 'tab\there', '€100']) {
      expect(ucs2Characters(text).length > 0).toBe(analyzeMessage(text).encoding === 'UCS-2');
    }
  });
});
