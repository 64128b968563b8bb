import { maskDeep, maskPhone, maskPhonesIn, maskPhonesInUrl } from './mask';

describe(maskPhone.name, () => {
  it('keeps the country and area prefix and the last two digits', () => {
    expect(maskPhone('+14155550100')).toBe('+1415*****00');
  });
});

describe(maskPhonesIn.name, () => {
  it('masks every number inside free text and nothing else', () => {
    expect(maskPhonesIn('to +14155550100 and +447700123456, order 1234567')).toBe(
      'to +1415*****00 and +4477******56, order 1234567',
    );
  });
});

describe(maskPhonesInUrl.name, () => {
  it('masks encoded, plain and bare numbers in the path and the query string', () => {
    expect(
      maskPhonesInUrl('/v1/x/%2B14155550123/y/14155550124?to=%2b14155550125&b=+14155550126'),
    ).toBe('/v1/x/%2B1415*****23/y/1415*****24?to=%2b1415*****25&b=+1415*****26');
  });

  it('leaves ids, pages and dates alone', () => {
    const url =
      '/v1/notifications/550e8400-e29b-41d4-a716-446655440000?page=2&from=2026-12-01T10:00:00Z';
    expect(maskPhonesInUrl(url)).toBe(url);
  });
});

describe(maskDeep.name, () => {
  it('masks strings in plain objects and arrays, and keeps other objects as they are', () => {
    const error = new Error('+14155550100');
    const masked = maskDeep({ to: ['+14155550100'], nested: { n: 1 }, error }) as Record<
      string,
      unknown
    >;
    expect(masked).toEqual({ to: ['+1415*****00'], nested: { n: 1 }, error });
    expect(masked.error).toBe(error);
  });
});
