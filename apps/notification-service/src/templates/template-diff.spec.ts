import fc from 'fast-check';
import { diffWords, MAX_EDITS } from './template-diff';

const side = (parts: ReturnType<typeof diffWords>, keep: 'insert' | 'delete') =>
  parts
    .filter((p) => p.op === 'equal' || p.op === keep)
    .map((p) => p.text)
    .join('');

describe(diffWords.name, () => {
  it('shows a changed word as itself', () => {
    expect(
      diffWords('Hi {{name}}, your order ships today.', 'Hi {{name}}, your parcel ships today.'),
    ).toEqual([
      { op: 'equal', text: 'Hi {{name}}, your ' },
      { op: 'delete', text: 'order' },
      { op: 'insert', text: 'parcel' },
      { op: 'equal', text: ' ships today.' },
    ]);
  });

  it('keeps a lone space between two changes inside them, deletion first', () => {
    expect(diffWords('Version two for {{name}}', 'Version three, {{name}}')).toEqual([
      { op: 'equal', text: 'Version ' },
      { op: 'delete', text: 'two for ' },
      { op: 'insert', text: 'three, ' },
      { op: 'equal', text: '{{name}}' },
    ]);
    expect(diffWords('a b c d', 'a x c y')).toEqual([
      { op: 'equal', text: 'a ' },
      { op: 'delete', text: 'b' },
      { op: 'insert', text: 'x' },
      { op: 'equal', text: ' c ' },
      { op: 'delete', text: 'd' },
      { op: 'insert', text: 'y' },
    ]);
  });

  it('is all equal for equal texts, and all inserted from nothing', () => {
    expect(diffWords('same text', 'same text')).toEqual([{ op: 'equal', text: 'same text' }]);
    expect(diffWords('', 'new text')).toEqual([{ op: 'insert', text: 'new text' }]);
    expect(diffWords('', '')).toEqual([]);
  });

  it('rebuilds both texts from its parts', () => {
    const words = fc.array(fc.constantFrom('a', 'b', 'c', ' ', '\n', '{{x}}', 'ü'), {
      maxLength: 60,
    });
    fc.assert(
      fc.property(words, words, (x, y) => {
        const [before, after] = [x.join(''), y.join('')];
        const parts = diffWords(before, after);
        expect(side(parts, 'delete')).toBe(before);
        expect(side(parts, 'insert')).toBe(after);
      }),
    );
  });

  it('answers two unrelated long texts as one deletion and one insertion', () => {
    const before = Array.from({ length: MAX_EDITS }, (_, i) => `a${i}`).join(' ');
    const after = Array.from({ length: MAX_EDITS }, (_, i) => `b${i}`).join(' ');
    const parts = diffWords(before, after);
    expect(side(parts, 'delete')).toBe(before);
    expect(side(parts, 'insert')).toBe(after);
    expect(parts.length).toBeLessThanOrEqual(MAX_EDITS);
  });
});
