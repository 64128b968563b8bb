import { usageMonth } from './usage-month';

describe('usageMonth', () => {
  it('is the first day of the UTC month', () => {
    expect(usageMonth(new Date('2026-12-06T22:17:00Z'))).toBe('2026-12-01');
    expect(usageMonth(new Date('2026-03-01T00:00:00Z'))).toBe('2026-03-01');
  });

  it('turns at midnight UTC on the first, whatever the local zone says', () => {
    expect(usageMonth(new Date('2026-01-31T23:59:59.999Z'))).toBe('2026-01-01');
    expect(usageMonth(new Date('2026-02-01T00:00:00.000Z'))).toBe('2026-02-01');
    // Still January in UTC although it is already February in Tokyo.
    expect(usageMonth(new Date('2026-01-31T20:00:00+00:00'))).toBe('2026-01-01');
  });

  it('turns the year', () => {
    expect(usageMonth(new Date('2026-12-31T23:59:59Z'))).toBe('2026-12-01');
    expect(usageMonth(new Date('2027-01-01T00:00:00Z'))).toBe('2027-01-01');
  });
});
