import { Inject, Injectable } from '@nestjs/common';
import { type DelayRange, SANDBOX_CONFIG, type FaultScope, type SandboxConfig } from '../config';

export interface FaultState {
  /** Fraction (0..1) of targeted requests answered 500 server_error. */
  errorRate: number;
  /** Added after the rate limit, before the handler: the provider's own processing time. */
  latencyMs: number;
  /** One-way network delay to the sandbox, drawn per request; counted and logged after it. */
  forwardDelayMs: DelayRange;
  /** One-way network delay of the answer, drawn per request. */
  returnDelayMs: DelayRange;
  force429: boolean;
  /** Fraction (0..1) of targeted requests answered 429 rate_limit_exceeded, within the limit. */
  rateLimitRate: number;
  /** The next N targeted requests are answered 500, before errorRate is rolled. */
  failNext: number;
  scope: FaultScope;
}

@Injectable()
export class FaultsService {
  private state!: FaultState;

  constructor(@Inject(SANDBOX_CONFIG) private readonly config: SandboxConfig) {
    this.reset();
  }

  reset(): void {
    this.state = {
      errorRate: this.config.errorRate,
      latencyMs: this.config.latencyMs,
      forwardDelayMs: this.config.forwardDelayMs,
      returnDelayMs: this.config.returnDelayMs,
      force429: this.config.force429,
      rateLimitRate: 0,
      failNext: 0,
      scope: this.config.faultScope,
    };
  }

  current(): Readonly<FaultState> {
    return this.state;
  }

  update(patch: Partial<FaultState>): Readonly<FaultState> {
    this.state = { ...this.state, ...patch };
    return this.state;
  }

  /** This request's way to the sandbox, ms. */
  forwardDelay(): number {
    return draw(this.state.forwardDelayMs);
  }

  /** This answer's way back, ms. */
  returnDelay(): number {
    return draw(this.state.returnDelayMs);
  }

  /** Whether this request should be refused with a 429 although it is within the limit. */
  shouldRateLimit(isSendRoute: boolean): boolean {
    if (this.state.force429) return true;
    if (this.state.scope === 'send' && !isSendRoute) return false;
    return this.state.rateLimitRate > 0 && Math.random() < this.state.rateLimitRate;
  }

  /** Whether this request should fail with a 500; consumes one of `failNext` when it does. */
  shouldFail(isSendRoute: boolean): boolean {
    if (this.state.scope === 'send' && !isSendRoute) return false;
    if (this.state.failNext > 0) {
      this.state.failNext -= 1;
      return true;
    }
    return this.state.errorRate > 0 && Math.random() < this.state.errorRate;
  }
}

function draw([min, max]: DelayRange): number {
  return min + Math.random() * (max - min);
}
