import {
  boundedError,
  boundedText,
  MAX_ERROR_CODE_LENGTH,
  storedErrorCode,
} from './provider-error-code';

describe(storedErrorCode.name, () => {
  it.each(['invalid_phone_number', 'insufficient_credits', 'undeliverable', 'carrier.v2-x'])(
    'keeps %s as it is',
    (code) => {
      expect(storedErrorCode(code)).toBe(code);
    },
  );

  it.each([
    ['Carrier Rejected!', 'carrier_rejected'],
    ['  SPAM/filtered  ', 'spam_filtered'],
    ['code\u0000with\u202enasties', 'code_with_nasties'],
    ['ÉCHEC', 'chec'],
  ])('brings %j to a safe charset: %s', (raw, stored) => {
    expect(storedErrorCode(raw)).toBe(stored);
  });

  it('cuts a code of any length to the bound, the same result every time', () => {
    const stored = storedErrorCode(`E${'x'.repeat(10_000)}`);
    expect(stored).toHaveLength(MAX_ERROR_CODE_LENGTH);
    expect(storedErrorCode(stored!)).toBe(stored);
    expect(storedErrorCode(`${'a'.repeat(63)} tail`)).toBe('a'.repeat(63));
  });

  it('gives null when nothing usable is left', () => {
    expect(storedErrorCode('')).toBeNull();
    expect(storedErrorCode('!!! ???')).toBeNull();
  });
});

describe(boundedText.name, () => {
  it('cuts long text, never inside a surrogate pair, and mends lone surrogates', () => {
    expect(boundedText('m'.repeat(10_000))).toHaveLength(500);
    const cut = boundedText(`${'a'.repeat(499)}😀😀`);
    expect(cut).toBe('a'.repeat(499));
    expect(boundedText('bad \ud83d here and \ude00 there')).toBe(
      'bad \ufffd here and \ufffd there',
    );
    expect(boundedText('ok 😀')).toBe('ok 😀');
  });
});

describe(boundedError.name, () => {
  it('bounds both parts, naming a code that has nothing left unknown', () => {
    expect(boundedError(null)).toBeNull();
    expect(boundedError({ code: '???', message: null })).toEqual({
      code: 'unknown',
      message: null,
    });
    expect(boundedError({ code: 'X'.repeat(100), message: 'y'.repeat(1000) })).toEqual({
      code: 'x'.repeat(64),
      message: 'y'.repeat(500),
    });
  });
});
