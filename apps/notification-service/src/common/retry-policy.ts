/**
 * Delay before retry number `attempt` (1 = after the first failed attempt): exponential from
 * `baseMs`, capped at `maxMs`, with "equal jitter" (half fixed, half random) so retries of a burst
 * spread out without ever collapsing to zero.
 */
export function retryDelayMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}
