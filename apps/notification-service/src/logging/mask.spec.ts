import fc from 'fast-check';
import {
  maskDeep,
  maskKeysIn,
  maskPhone,
  maskPhonesIn,
  maskPhonesInUrl,
  maskSecretsInUrl,
  maskText,
  maskUrl,
} from './mask';

describe(maskPhone.name, () => {
  it('keeps the first two digits and the last four, so numbers in a row differ', () => {
    expect(maskPhone('+14155550100')).toBe('+14*****0100');
    // Numbers handed out in a row, as a test or a batch uses them, stay apart.
    expect(maskPhone('+14155550400')).not.toBe(maskPhone('+14155550100'));
  });

  it('hides at least three digits of a short number, and every digit of a very short one', () => {
    expect(maskPhone('+4912345')).toBe('+49***45');
    expect(maskPhone('+49123456')).toBe('+49***456');
    expect(maskPhone('+491234')).toBe('+******');
  });
});

describe(maskPhonesIn.name, () => {
  it('masks every number inside free text and nothing else', () => {
    expect(maskPhonesIn('to +14155550100 and +447700123456, order 1234567')).toBe(
      'to +14*****0100 and +44******3456, order 1234567',
    );
  });
});

describe('numbers written with spaces, dashes, dots, parentheses or tel:', () => {
  it.each([
    ['+1 415 555 0100', '+14*****0100'],
    ['+1-415-555-0100', '+14*****0100'],
    ['+1.415.555.0100', '+14*****0100'],
    ['+1 (415) 555-0100', '+14*****0100'],
    ['+44 20 7946 0958', '+44******0958'],
    ['tel:+14155550100', 'tel:+14*****0100'],
    ['tel:+1-415-555-0100', 'tel:+14*****0100'],
    ['TEL:14155550100', 'tel:14*****0100'],
    ['(415) 555-0100', '41****0100'],
    ['415-555-0100', '41****0100'],
    ['415.555.0100', '41****0100'],
    ['415 555 0100', '41****0100'],
    ['1-415-555-0100', '14*****0100'],
  ])('masks %s', (written, masked) => {
    expect(maskPhonesIn(`call ${written} now`)).toBe(`call ${masked} now`);
  });

  it('stops a number where it ends: a date after it is no part of it', () => {
    expect(maskPhonesIn('+14155550100 2026-12-01')).toBe('+14*****0100 2026-12-01');
    expect(maskPhonesIn('to +1 415 555 0100, 3 tries')).toBe('to +14*****0100, 3 tries');
  });

  it.each([
    'at 2026-12-01T10:00:00+01:00 took +150 ms',
    'from 10.0.0.1 and 192.168.100.200, v1.415.555',
    'id 550e8400-e29b-41d4-a716-446655440000, order 1234567, 1764000000000 ms',
    'amount +100.00, diff +12 345',
    'version 2.415.555.0100.1',
  ])('leaves dates, addresses, ids and amounts alone: %s', (text) => {
    expect(maskPhonesIn(text)).toBe(text);
  });

  it('never shows the digits of a formatted number, whatever the grouping (property)', () => {
    const separator = fc.constantFrom(' ', '-', '.', '');
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 99 }),
        fc.array(fc.stringMatching(/^\d{2,4}$/), { minLength: 2, maxLength: 4 }),
        separator,
        fc.boolean(),
        fc.constantFrom('', 'tel:'),
        (country, groups, sep, parens, tel) => {
          const all = `${country}${groups.join('')}`;
          fc.pre(all.length >= 7 && all.length <= 15);
          const [first, ...rest] = groups;
          const written = `${tel}+${country}${sep || ' '}${parens ? `(${first})` : first}${sep}${rest.join(sep)}`;
          const masked = maskPhonesIn(`x ${written} y`);
          expect(masked).toContain('*');
          // Readable: the first two digits and the last four (fewer in a short number, which
          // hides at least three), never the ones between.
          const tail = Math.min(4, all.length - 5);
          expect(masked.replace(/\D/g, '')).toBe(`${all.slice(0, 2)}${all.slice(-tail)}`);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe(maskPhonesInUrl.name, () => {
  it('masks encoded, plain and bare numbers in the path and the query string', () => {
    expect(
      maskPhonesInUrl('/v1/x/%2B14155550123/y/14155550124?to=%2b14155550125&b=+14155550126'),
    ).toBe('/v1/x/%2B14*****0123/y/14*****0124?to=%2b14*****0125&b=+14*****0126');
  });

  it('leaves ids, pages and dates alone', () => {
    const url =
      '/v1/notifications/550e8400-e29b-41d4-a716-446655440000?page=2&from=2026-12-01T10:00:00Z&day=2026-12-01';
    expect(maskPhonesInUrl(url)).toBe(url);
  });

  it.each([
    ['/v1/messages?to=%2B1%20415%20555%200100', '/v1/messages?to=+14*****0100'],
    ['/v1/messages?to=+1-415-555-0100', '/v1/messages?to=+14*****0100'],
    ['/v1/messages?to=+1+415+555+0100', '/v1/messages?to= 14*****0100'],
    ['/v1/messages?ref=%2B1.415.555.0100', '/v1/messages?ref=+14*****0100'],
    ['/v1/messages?ref=(415)%20555-0100', '/v1/messages?ref=41****0100'],
    ['/v1/messages?ref=tel:%2B14155550100', '/v1/messages?ref=tel:%2B14*****0100'],
    ['/v1/recipients/tel:+14155550100/x', '/v1/recipients/tel:+14*****0100/x'],
    ['/v1/recipients/415-555-0100/x', '/v1/recipients/41****0100/x'],
    ['/v1/recipients/%2B1%20(415)%20555-0100', '/v1/recipients/+14*****0100'],
  ])('masks a formatted or encoded number: %s', (url, masked) => {
    expect(maskPhonesInUrl(url)).toBe(masked);
  });
});

describe(maskSecretsInUrl.name, () => {
  it('redacts credential parameters whatever their value, and keeps the rest', () => {
    expect(
      maskSecretsInUrl(
        '/v1/templates?api_key=abc&page=2&token=t0k&access_token=ya29.x&key=k&X-Api-Key=q&client_secret=s&monkey=ok',
      ),
    ).toBe(
      '/v1/templates?api_key=[redacted]&page=2&token=[redacted]&access_token=[redacted]&key=[redacted]&X-Api-Key=[redacted]&client_secret=[redacted]&monkey=ok',
    );
    expect(maskSecretsInUrl('/v1/templates?page=2')).toBe('/v1/templates?page=2');
  });

  it('redacts a key of ours anywhere in the URL, its prefix kept', () => {
    const key = `nk_${'Ab1-_'.repeat(6)}xy`;
    expect(maskSecretsInUrl(`/v1/x/${key}?q=${key}`)).toBe(
      '/v1/x/nk_Ab1-_[redacted]?q=nk_Ab1-_[redacted]',
    );
  });
});

describe(maskKeysIn.name, () => {
  it('masks API keys and signing secrets in free text', () => {
    expect(maskKeysIn(`bad key nk_${'a'.repeat(32)}, secret whsec_${'Zm9vYmFy'.repeat(4)}=`)).toBe(
      'bad key nk_aaaaa[redacted], secret whsec_[redacted]',
    );
    expect(maskKeysIn('the nk_ prefix and whsec_ alone')).toBe('the nk_ prefix and whsec_ alone');
  });
});

describe(maskUrl.name, () => {
  it('masks numbers and credentials together', () => {
    expect(maskUrl('/v1/messages?to=%2B1%20415%20555%200100&api_key=nk_x')).toBe(
      '/v1/messages?to=+14*****0100&api_key=[redacted]',
    );
  });
});

describe(maskText.name, () => {
  it('masks numbers and keys in one pass', () => {
    expect(maskText(`+1 415 555 0100 with nk_${'b'.repeat(32)}`)).toBe(
      '+14*****0100 with nk_bbbbb[redacted]',
    );
  });
});

describe(maskDeep.name, () => {
  it('masks strings in plain objects and arrays, and keeps other objects as they are', () => {
    const error = new Error('+14155550100');
    const masked = maskDeep({ to: ['+14155550100'], nested: { n: 1 }, error }) as Record<
      string,
      unknown
    >;
    expect(masked).toEqual({ to: ['+14*****0100'], nested: { n: 1 }, error });
    expect(masked.error).toBe(error);
  });
});
