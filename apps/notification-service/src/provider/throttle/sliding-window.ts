/**
 * Largest number of timestamps that fall into any half-open window `[t, t + windowMs)`.
 *
 * The provider's window alignment is unknown to us, so "at most N per second" has to hold for
 * every placement of the window, not only for windows starting at whole seconds. Only windows
 * that start at one of the timestamps need checking: sliding any other window forward to its
 * first member keeps every member inside and can only add more.
 */
export function maxInSlidingWindow(timestamps: readonly number[], windowMs: number): number {
  if (!(windowMs > 0)) throw new RangeError(`windowMs must be > 0, got ${windowMs}`);
  const sorted = [...timestamps].sort((a, b) => a - b);
  let best = 0;
  let end = 0;
  for (let start = 0; start < sorted.length; start += 1) {
    if (end < start) end = start;
    while (end < sorted.length && sorted[end] < sorted[start] + windowMs) end += 1;
    best = Math.max(best, end - start);
  }
  return best;
}
