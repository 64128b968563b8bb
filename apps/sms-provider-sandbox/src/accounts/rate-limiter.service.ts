import { Injectable } from '@nestjs/common';

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Whole seconds until the window resets, rounded up: always 1 with one-second windows. */
  resetSeconds: number;
}

interface Window {
  /** Wall-clock second (epoch ms / 1000, floored) this window covers. */
  second: number;
  count: number;
}

const WINDOW_MS = 1000;

/**
 * Fixed one-second windows per API key, aligned to wall-clock seconds: a window is
 * [k·1000, (k+1)·1000) in epoch ms. Every request counts, refused ones included, as at a real edge
 * proxy. O(1) per request and one small object per key.
 */
@Injectable()
export class RateLimiterService {
  private readonly windows = new Map<string, Window>();

  consume(key: string, limit: number, atMs: number): RateLimitDecision {
    const second = Math.floor(atMs / WINDOW_MS);
    let window = this.windows.get(key);
    if (!window || window.second !== second) {
      window = { second, count: 0 };
      this.windows.set(key, window);
    }
    window.count += 1;
    const resetSeconds = Math.max(1, Math.ceil(((second + 1) * WINDOW_MS - atMs) / 1000));
    return {
      allowed: window.count <= limit,
      limit,
      remaining: Math.max(0, limit - window.count),
      resetSeconds,
    };
  }

  reset(): void {
    this.windows.clear();
  }
}
