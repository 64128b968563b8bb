import { retryDelayMs } from './retry-policy';

describe(retryDelayMs.name, () => {
  it('doubles per attempt between half and all of the exponential value', () => {
    expect(retryDelayMs(1, 1000, 60_000, () => 0)).toBe(500);
    expect(retryDelayMs(1, 1000, 60_000, () => 1)).toBe(1000);
    expect(retryDelayMs(3, 1000, 60_000, () => 0)).toBe(2000);
    expect(retryDelayMs(3, 1000, 60_000, () => 1)).toBe(4000);
  });

  it('never exceeds the cap, however many attempts', () => {
    for (let attempt = 1; attempt < 60; attempt++) {
      expect(retryDelayMs(attempt, 1000, 30_000, () => 1)).toBeLessThanOrEqual(30_000);
    }
  });

  it('spreads a burst of retries of the same attempt', () => {
    const delays = new Set(Array.from({ length: 20 }, () => retryDelayMs(4, 1000, 60_000)));
    expect(delays.size).toBeGreaterThan(10);
  });
});
