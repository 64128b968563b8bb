import { Inject, Injectable } from '@nestjs/common';
import { SANDBOX_CONFIG, type SandboxConfig } from '../config';

export interface RequestLogEntry {
  /** Epoch ms (fractional) at arrival, taken in the onRequest hook. */
  at: number;
  method: string;
  path: string;
  /** The bearer token presented, known or not; null without one. */
  key: string | null;
  /** Null while the response is still being produced. */
  status: number | null;
}

/**
 * Every provider-API request in arrival order. Entries are appended at arrival and completed when
 * the response goes out, so the array stays sorted by `at` and `since` is a binary search.
 */
@Injectable()
export class RequestLogService {
  private entries: RequestLogEntry[] = [];

  constructor(@Inject(SANDBOX_CONFIG) private readonly config: SandboxConfig) {}

  start(entry: Omit<RequestLogEntry, 'status'>): RequestLogEntry {
    const logged: RequestLogEntry = { ...entry, status: null };
    this.entries.push(logged);
    // Trimming in batches of 10% keeps the cost of dropping old entries amortised O(1).
    const limit = this.config.requestLogLimit;
    if (this.entries.length > limit + Math.ceil(limit / 10)) {
      this.entries.splice(0, this.entries.length - limit);
    }
    return logged;
  }

  finish(entry: RequestLogEntry, status: number): void {
    entry.status = status;
  }

  /** Entries with `at >= since` (all when since is undefined), optionally of one key. */
  list(filter: { since?: number; key?: string } = {}): RequestLogEntry[] {
    const from = filter.since === undefined ? 0 : this.firstIndexAtOrAfter(filter.since);
    const slice = this.entries.slice(from);
    const { key } = filter;
    return key === undefined ? slice : slice.filter((entry) => entry.key === key);
  }

  clear(): void {
    this.entries = [];
  }

  private firstIndexAtOrAfter(since: number): number {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.entries[mid].at < since) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
