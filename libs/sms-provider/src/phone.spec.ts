import { isE164, normalizeE164 } from './phone';

describe(isE164.name, () => {
  it.each(['+14155550100', '+14155550123', '+442071838750', '+33612345678', '+4915112345678'])(
    'accepts %s',
    (value) => {
      expect(isE164(value)).toBe(true);
    },
  );

  it.each([
    ['missing +', '14155550100'],
    ['letters', '+1415555ABCD'],
    ['too short', '+1415'],
    ['too long', '+1415555010012345'],
    ['spaces', '+1 415 555 0100'],
    ['dashes', '+1-415-555-0100'],
    ['invalid country code', '+99912345678'],
    ['leading zero country code', '+04155550100'],
    ['invalid for its country (unassigned UK drama range)', '+447700900123'],
    ['empty', ''],
    ['a lone +', '+'],
    ['a trailing newline', '+14155550100\n'],
  ])('rejects %s (%j)', (_label, value) => {
    expect(isE164(value)).toBe(false);
  });

  it.each([null, undefined, 14155550100, {}, ['+14155550100']])(
    'rejects non-string %p',
    (value) => {
      expect(isE164(value)).toBe(false);
    },
  );
});

describe(normalizeE164.name, () => {
  it('returns the E.164 form of a formatted international number', () => {
    expect(normalizeE164('+1 (415) 555-0100')).toBe('+14155550100');
    expect(normalizeE164(' +44 20 7183 8750 ')).toBe('+442071838750');
  });

  it('returns an already-E.164 number unchanged', () => {
    expect(normalizeE164('+14155550100')).toBe('+14155550100');
  });

  it.each(['4155550100', '+1-800-FLOWERS', '+99912345678', '+1415', 'hello', ''])(
    'returns null for %j',
    (value) => {
      expect(normalizeE164(value)).toBeNull();
    },
  );

  it('returns null for a non-string', () => {
    expect(normalizeE164(42)).toBeNull();
  });
});
