/** PARKED_EVENTS_MAX and PARKED_EVENTS_PER_SECOND. */
export interface ParkingLimits {
  /** Rows the parked-events table may hold (0: nothing is parked). */
  max: number;
  /** Events parked per second by this instance, with a burst of one second's worth. */
  perSecond: number;
}

/** Parked, or why not: over the rate, or the table is full. */
export type ParkingVerdict = 'parked' | 'rate' | 'full';

/** How long a count of the table is trusted before it is read again. */
const RECOUNT_AFTER_MS = 1000;

/**
 * Decides whether an event for a message we don't know yet may be parked, and parks it: a signed
 * webhook is cheap to send in bulk, so how many events are kept and how fast they arrive are both
 * capped (the excess is acknowledged and dropped; polling still resolves its message).
 *
 * The table is counted at most once a second; in between, what this instance parks is added to
 * the count, and inserts still running when it is counted are added too, so the cap is never
 * overshot by this instance. Other instances add at most their rate for one second each.
 */
export class ParkingGate {
  private tokens: number;
  private refilledAt: number;
  private rows: number | null = null;
  private countedAt = 0;
  private counting: Promise<void> | null = null;
  private inFlight = 0;

  constructor(
    private readonly limits: ParkingLimits,
    private readonly countRows: () => Promise<number>,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = limits.perSecond;
    this.refilledAt = now();
  }

  async park(insert: () => Promise<void>): Promise<ParkingVerdict> {
    if (!this.takeToken(false)) return 'rate';
    if (this.rows === null || this.now() - this.countedAt >= RECOUNT_AFTER_MS) await this.recount();
    if (!this.takeToken(true)) return 'rate';
    if ((this.rows ?? 0) >= this.limits.max) {
      this.tokens += 1;
      return 'full';
    }
    this.rows = (this.rows ?? 0) + 1;
    this.inFlight++;
    try {
      await insert();
    } finally {
      this.inFlight--;
    }
    return 'parked';
  }

  /** Whether a token is there (and, with `take`, takes it). */
  private takeToken(take: boolean): boolean {
    const now = this.now();
    const elapsed = Math.max(0, now - this.refilledAt);
    this.refilledAt = now;
    this.tokens = Math.min(
      this.limits.perSecond,
      this.tokens + (elapsed * this.limits.perSecond) / 1000,
    );
    if (this.tokens < 1) return false;
    if (take) this.tokens -= 1;
    return true;
  }

  /** One count at a time, however many events wait for it. */
  private recount(): Promise<void> {
    this.counting ??= (async () => {
      const pending = this.inFlight;
      try {
        const rows = await this.countRows();
        this.rows = rows + pending;
        this.countedAt = this.now();
      } finally {
        this.counting = null;
      }
    })();
    return this.counting;
  }
}
