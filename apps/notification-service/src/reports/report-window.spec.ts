import { ApiError } from '../common/errors/api-error';
import { parseInstant, resolveWindow } from './report-window';

describe(parseInstant.name, () => {
  it.each([
    ['2026-01-31T00:00:00Z', '2026-01-31T00:00:00.000Z'],
    ['2026-01-31T10:15Z', '2026-01-31T10:15:00.000Z'],
    ['2026-01-31T10:15:30.5Z', '2026-01-31T10:15:30.500Z'],
    ['2026-01-31T10:15:30.123456789Z', '2026-01-31T10:15:30.123Z'],
    ['2026-01-31T02:00:00+02:00', '2026-01-31T00:00:00.000Z'],
    ['2026-01-30T19:00:00-0500', '2026-01-31T00:00:00.000Z'],
    ['2026-01-01T00:30:00+05:30', '2025-12-31T19:00:00.000Z'],
    ['2028-02-29T00:00:00Z', '2028-02-29T00:00:00.000Z'],
  ])('reads %s as %s', (input, expected) => {
    expect(parseInstant(input)?.toISOString()).toBe(expected);
  });

  it.each([
    '2026-01-31',
    '2026-01-31T00:00:00',
    '2026-02-30T00:00:00Z',
    '2027-02-29T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-00-10T00:00:00Z',
    '2026-01-00T00:00:00Z',
    '2026-01-01T24:00:00Z',
    '2026-01-01T10:60:00Z',
    '2026-01-01T10:00:60Z',
    '2026-01-01T10:00:00+24:00',
    '2026-01-01 10:00:00Z',
    'yesterday',
    '',
    '1767225600000',
  ])('refuses %j', (input) => {
    expect(parseInstant(input)).toBeNull();
  });
});

describe(resolveWindow.name, () => {
  const now = new Date('2026-03-10T12:00:00.000Z');
  const iso = (w: { since: Date; until: Date }) => [w.since.toISOString(), w.until.toISOString()];

  function errorOf(fn: () => unknown): ApiError {
    try {
      fn();
    } catch (error) {
      if (error instanceof ApiError) return error;
      throw error;
    }
    throw new Error('expected an ApiError');
  }

  it('defaults to the last 7 days ending now', () => {
    expect(iso(resolveWindow({}, now))).toEqual([
      '2026-03-03T12:00:00.000Z',
      '2026-03-10T12:00:00.000Z',
    ]);
  });

  it('defaults since to 7 days before an explicit until', () => {
    expect(iso(resolveWindow({ until: '2026-02-01T00:00:00Z' }, now))).toEqual([
      '2026-01-25T00:00:00.000Z',
      '2026-02-01T00:00:00.000Z',
    ]);
  });

  it('defaults until to now after an explicit since', () => {
    expect(iso(resolveWindow({ since: '2026-01-01T00:00:00+01:00' }, now))).toEqual([
      '2025-12-31T23:00:00.000Z',
      '2026-03-10T12:00:00.000Z',
    ]);
  });

  it('accepts exactly 366 days', () => {
    const w = resolveWindow({ since: '2027-01-01T00:00:00Z', until: '2028-01-02T00:00:00Z' }, now);
    expect(iso(w)).toEqual(['2027-01-01T00:00:00.000Z', '2028-01-02T00:00:00.000Z']);
  });

  it('refuses more than 366 days with 422 window_too_large', () => {
    const error = errorOf(() =>
      resolveWindow({ since: '2027-01-01T00:00:00Z', until: '2028-01-02T00:00:00.001Z' }, now),
    );
    expect([error.status, error.code]).toEqual([422, 'window_too_large']);
  });

  it.each([
    ['2026-01-02T00:00:00Z', '2026-01-01T00:00:00Z'],
    ['2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'],
    ['2026-01-01T01:00:00+01:00', '2026-01-01T00:00:00Z'],
  ])('refuses since=%s until=%s with 422 invalid_window', (since, until) => {
    const error = errorOf(() => resolveWindow({ since, until }, now));
    expect([error.status, error.code]).toEqual([422, 'invalid_window']);
  });

  it('refuses a since in the future when until defaults to now', () => {
    const error = errorOf(() => resolveWindow({ since: '2026-04-01T00:00:00Z' }, now));
    expect(error.code).toBe('invalid_window');
  });

  it('refuses an unparsable date with 400 even without the DTO in front', () => {
    const error = errorOf(() => resolveWindow({ since: '2026-02-30T00:00:00Z' }, now));
    expect([error.status, error.code]).toEqual([400, 'validation_failed']);
  });
});
