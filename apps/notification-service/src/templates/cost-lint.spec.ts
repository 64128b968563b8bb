import { analyzeMessage } from '@app/sms-provider/helpers';
import fc from 'fast-check';
import { costWarnings } from './cost-lint';

describe(costWarnings.name, () => {
  it('one ’ in a 160-character text: 3 segments now, 1 without', () => {
    const text = `We’ve ${'a'.repeat(154)}`;
    expect(text).toHaveLength(160);
    expect(costWarnings(text)).toEqual([
      {
        code: 'forces_ucs2',
        characters: ['’'],
        segments_now: 3,
        segments_without: 1,
        replaceable: ['’'],
      },
    ]);
  });

  it('names each character once, in order; leaves out what has no GSM-7 stand-in', () => {
    const [warning] = costWarnings(`Hi 😀 “you” 😀 ${'x'.repeat(60)}`);
    expect(warning).toEqual({
      code: 'forces_ucs2',
      characters: ['😀', '“', '”'],
      segments_now: 2,
      segments_without: 1,
      replaceable: ['“', '”'],
    });
  });

  it('says so when the GSM-7 text would cost more: an ellipsis is three characters', () => {
    const [warning] = costWarnings('…'.repeat(500));
    expect(warning).toMatchObject({ segments_now: 8, segments_without: 10 });
  });

  it('has nothing to say about a GSM-7 text', () => {
    expect(costWarnings('Your code is 123456. {€} ~ [ok]')).toEqual([]);
  });

  it('warns exactly when the text is UCS-2, with its segments as billed', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        const warnings = costWarnings(text);
        const { encoding, segments } = analyzeMessage(text);
        expect(warnings.length === 1).toBe(encoding === 'UCS-2');
        for (const w of warnings) {
          expect(w.segments_now).toBe(segments);
          expect(new Set(w.characters).size).toBe(w.characters.length);
        }
      }),
    );
  });
});
