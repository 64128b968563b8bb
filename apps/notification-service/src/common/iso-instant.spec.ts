import { parseInstant } from './iso-instant';

describe(parseInstant.name, () => {
  it('reads times with an offset', () => {
    expect(parseInstant('2026-03-01T10:00:00+02:00')?.toISOString()).toBe(
      '2026-03-01T08:00:00.000Z',
    );
    expect(parseInstant('9999-12-31T23:59:59.999Z')?.toISOString()).toBe(
      '9999-12-31T23:59:59.999Z',
    );
    expect(parseInstant('1970-01-01T00:00:00Z')?.getTime()).toBe(0);
  });

  it.each([
    '0001-01-01T00:00:00Z', // used to read back as 1901
    '0099-06-01T00:00:00Z', // used to become 1999
    '1969-12-31T23:59:59Z',
    '1970-01-01T00:30:00+01:00', // 1969 in UTC
    '2026-02-30T00:00:00Z',
    '2026-01-01T00:00:00',
  ])('refuses %s', (value) => {
    expect(parseInstant(value)).toBeNull();
  });
});
