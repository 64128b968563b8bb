import { maxInSlidingWindow } from './sliding-window';

describe(maxInSlidingWindow.name, () => {
  it('is 0 for no timestamps', () => {
    expect(maxInSlidingWindow([], 1000)).toBe(0);
  });

  it('treats the window as half-open: a point exactly windowMs later is outside', () => {
    expect(maxInSlidingWindow([0, 1000], 1000)).toBe(1);
    expect(maxInSlidingWindow([0, 999], 1000)).toBe(2);
  });

  it('finds a burst that straddles a whole-second boundary', () => {
    // 5 at the end of second 0 and 5 at the start of second 1: a fixed window sees 5 + 5,
    // the provider's unaligned window can see all 10.
    const ts = [900, 920, 940, 960, 980, 1000, 1020, 1040, 1060, 1080];
    expect(maxInSlidingWindow(ts, 1000)).toBe(10);
  });

  it('does not depend on input order and leaves the input untouched', () => {
    const ts = [500, 0, 250, 1600, 1250, 1500];
    const copy = [...ts];
    expect(maxInSlidingWindow(ts, 1000)).toBe(3);
    expect(ts).toEqual(copy);
  });

  it('counts duplicates', () => {
    expect(maxInSlidingWindow([5, 5, 5, 2000], 1000)).toBe(3);
  });

  it('gives exactly n for n evenly spaced points at 1000/n ms', () => {
    const ts = Array.from({ length: 100 }, (_, i) => i * 100);
    expect(maxInSlidingWindow(ts, 1000)).toBe(10);
  });

  it('rejects a non-positive window', () => {
    expect(() => maxInSlidingWindow([1], 0)).toThrow(RangeError);
  });
});
