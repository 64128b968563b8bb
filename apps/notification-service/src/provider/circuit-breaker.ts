export type CircuitState = 'closed' | 'open' | 'half_open';

/** Why an account takes no calls: the provider failing, or refusing the account itself. */
export type OpenReason = 'provider_failing' | 'insufficient_credits' | 'authentication_failed';

export interface CircuitOptions {
  /** Whole-provider failures in a row that open the circuit. */
  failureThreshold: number;
  /** The first open period; each failed probe doubles it, up to maxOpenMs. */
  openMs: number;
  maxOpenMs: number;
  now?: () => number;
}

export interface CircuitSnapshot {
  state: CircuitState;
  /** When the account last stopped taking calls, or took them again (ms since the epoch). */
  since: number;
  reason: OpenReason | null;
  /** The last whole-provider failure or refusal, as a code (`server_error`, `timeout`, ...). */
  lastError: string | null;
  lastErrorAt: number | null;
  /** While open: when the next probe may go. */
  probeAt: number | null;
}

/** Admitted as a probe, a call's outcome decides the circuit; an ordinary call only counts. */
export type Admission = 'call' | 'probe';

/**
 * One provider account's circuit, in one process. Closed, calls go; after `failureThreshold`
 * whole-provider failures in a row (5xx, timeouts, refused connections: the provider failing,
 * not one message) it opens, and no call goes until its open period ends. Then one call is let
 * through as a probe (half-open): any answer from the provider closes the circuit, another
 * failure opens it for twice as long. A refusal of the account itself (out of credits, key
 * refused) opens it at once for a fixed period: one such answer is certain, not a trend.
 *
 * Per process on purpose: each process finds out by its own calls, and a shared state would cost
 * a Redis round trip per send. The gateway publishes each change so operators see it.
 */
export class CircuitBreaker {
  private state: CircuitState = 'closed';
  private since: number;
  private reason: OpenReason | null = null;
  private failures = 0;
  private openFor: number;
  private probeAt: number | null = null;
  private probing = false;
  private lastError: string | null = null;
  private lastErrorAt: number | null = null;
  private readonly now: () => number;

  constructor(
    private readonly options: CircuitOptions,
    private readonly onChange: (snapshot: CircuitSnapshot) => void = () => undefined,
  ) {
    this.now = options.now ?? Date.now;
    this.since = this.now();
    this.openFor = options.openMs;
  }

  /** Whether a call may go now, and as what; null: not now (see availableInMs). */
  admit(): Admission | null {
    if (this.state === 'closed') return 'call';
    if (this.state === 'open') {
      if (this.now() < (this.probeAt ?? 0)) return null;
      this.move('half_open');
    }
    if (this.probing) return null;
    this.probing = true;
    return 'probe';
  }

  /**
   * How long a caller turned away should wait before asking again: until the probe time while
   * open; while a probe is out, the current open period (a probe may take the whole provider
   * timeout, and callers asking every few milliseconds meanwhile would only churn).
   */
  availableInMs(): number {
    if (this.state === 'closed') return 0;
    if (this.state === 'half_open') return this.probing ? this.openFor : 0;
    return Math.max(0, (this.probeAt ?? 0) - this.now());
  }

  /** The provider answered (a success, or an error about the message): it is up. */
  answered(admission: Admission): void {
    this.failures = 0;
    if (admission === 'probe') this.probing = false;
    if (this.state !== 'closed') {
      this.openFor = this.options.openMs;
      this.reason = null;
      this.probeAt = null;
      this.move('closed');
    }
  }

  /** A whole-provider failure (5xx, timeout, no connection). */
  failed(admission: Admission, code: string): void {
    this.note(code);
    if (admission === 'probe') {
      this.probing = false;
      this.openFor = Math.min(this.openFor * 2, this.options.maxOpenMs);
      this.open('provider_failing', this.openFor);
      return;
    }
    this.failures += 1;
    if (this.state === 'closed' && this.failures >= this.options.failureThreshold) {
      this.open('provider_failing', this.openFor);
    }
  }

  /** The provider refused the account (no credits, key refused): closed to calls for `forMs`. */
  refused(admission: Admission, reason: OpenReason, forMs: number): void {
    this.note(reason);
    if (admission === 'probe') this.probing = false;
    this.open(reason, forMs);
  }

  /** The call never went (no slot, lease lost): a probe's turn passes to the next caller. */
  withdrawn(admission: Admission): void {
    if (admission === 'probe') this.probing = false;
  }

  /** Ends a refusal early: the account has credits again, as its own answer said. */
  reset(): void {
    if (this.state === 'closed') return;
    this.failures = 0;
    this.openFor = this.options.openMs;
    this.reason = null;
    this.probeAt = null;
    this.move('closed');
  }

  snapshot(): CircuitSnapshot {
    // An open circuit whose period is over takes the next call as its probe: show it so.
    const state =
      this.state === 'open' && this.now() >= (this.probeAt ?? 0) ? 'half_open' : this.state;
    return {
      state,
      since: this.since,
      reason: this.reason,
      lastError: this.lastError,
      lastErrorAt: this.lastErrorAt,
      probeAt: this.state === 'closed' ? null : this.probeAt,
    };
  }

  private open(reason: OpenReason, forMs: number): void {
    this.reason = reason;
    this.probeAt = this.now() + forMs;
    this.failures = 0;
    this.move('open', true);
  }

  private note(code: string): void {
    this.lastError = code;
    this.lastErrorAt = this.now();
  }

  private move(to: CircuitState, always = false): void {
    if (to === this.state && !always) return;
    // `since` is when calls stopped (or resumed): a failed probe re-opens the same outage.
    if ((to === 'closed') !== (this.state === 'closed')) this.since = this.now();
    this.state = to;
    this.onChange(this.snapshot());
  }
}
