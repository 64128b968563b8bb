import { setTimeout as delay } from 'node:timers/promises';

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Named in the timeout error: "waiting for <what>". */
  what?: string;
}

/**
 * Polls `check` until it returns a truthy value and returns that value. At the deadline it fails
 * with the last value seen, which is usually what explains the wait. A `check` that throws ends the
 * wait at once: that is how a caller gives up early (e.g. the process it waits for has exited).
 */
export async function waitFor<T>(
  check: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  { timeoutMs = 20_000, intervalMs = 50, what = 'condition' }: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    last = await check();
    if (last) return last as T;
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(last)}`,
      );
    }
    await delay(intervalMs);
  }
}
