import { AxiosHeaders } from 'axios';
import { parseRateLimitHeaders, retryAfterMsFrom } from './rate-limit';

describe(parseRateLimitHeaders.name, () => {
  it('reads the three headers from Node-style lower-case headers', () => {
    expect(
      parseRateLimitHeaders({
        'x-ratelimit-limit': '10',
        'x-ratelimit-remaining': '7',
        'x-ratelimit-reset': '1',
      }),
    ).toEqual({ limit: 10, remaining: 7, resetSeconds: 1 });
  });

  it('matches header names case-insensitively', () => {
    expect(
      parseRateLimitHeaders({
        'X-RateLimit-Limit': '50',
        'X-RATELIMIT-REMAINING': '0',
        'x-RateLimit-Reset': '0.35',
      }),
    ).toEqual({ limit: 50, remaining: 0, resetSeconds: 0.35 });
  });

  it('reads axios headers and fetch Headers', () => {
    const axiosHeaders = new AxiosHeaders({ 'X-RateLimit-Limit': '10', 'X-RateLimit-Reset': '2' });
    expect(parseRateLimitHeaders(axiosHeaders)).toEqual({
      limit: 10,
      remaining: null,
      resetSeconds: 2,
    });
    const fetchHeaders = new Headers({ 'x-ratelimit-remaining': '3' });
    expect(parseRateLimitHeaders(fetchHeaders).remaining).toBe(3);
  });

  it('accepts numeric values and fractional seconds', () => {
    expect(
      parseRateLimitHeaders({ 'x-ratelimit-limit': 10, 'x-ratelimit-reset': ' .5 ' }),
    ).toMatchObject({ limit: 10, resetSeconds: 0.5 });
  });

  it('takes the first value of a repeated header', () => {
    expect(parseRateLimitHeaders({ 'x-ratelimit-limit': ['10', '50'] }).limit).toBe(10);
  });

  it.each([['abc'], [''], ['-1'], ['1e3'], ['0x10'], ['10 req'], ['NaN'], ['Infinity']])(
    'turns garbage %j into null',
    (value) => {
      expect(
        parseRateLimitHeaders({
          'x-ratelimit-limit': value,
          'x-ratelimit-remaining': value,
          'x-ratelimit-reset': value,
        }),
      ).toEqual({ limit: null, remaining: null, resetSeconds: null });
    },
  );

  it('gives nulls for missing headers, null or undefined', () => {
    const empty = { limit: null, remaining: null, resetSeconds: null };
    expect(parseRateLimitHeaders({})).toEqual(empty);
    expect(parseRateLimitHeaders(null)).toEqual(empty);
    expect(parseRateLimitHeaders(undefined)).toEqual(empty);
  });
});

describe(retryAfterMsFrom.name, () => {
  it('converts reset seconds to whole milliseconds', () => {
    expect(retryAfterMsFrom({ limit: 10, remaining: 0, resetSeconds: 0.3 })).toBe(300);
    expect(retryAfterMsFrom({ limit: 10, remaining: 0, resetSeconds: 2 })).toBe(2000);
  });

  it('falls back when reset is unknown', () => {
    expect(retryAfterMsFrom({ limit: null, remaining: null, resetSeconds: null })).toBe(1000);
    expect(retryAfterMsFrom({ limit: null, remaining: null, resetSeconds: null }, 250)).toBe(250);
  });
});
