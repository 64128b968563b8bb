import { HttpStatus } from '@nestjs/common';
import { PLAN_RATE_LIMITS, type ProviderPlan } from '@app/sms-provider';
import { invalidParameter, SandboxError } from '../common/sandbox-error';
import { type DelayRange, MAX_DELAY_MS } from '../config';
import type { FaultState } from '../faults/faults.service';

/** Bodies and queries of the /__admin routes, snake_case on the wire like the provider's API. */

function asRecord(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new SandboxError(
      HttpStatus.BAD_REQUEST,
      'invalid_request',
      'The request body must be a JSON object',
    );
  }
  return body as Record<string, unknown>;
}

function integerIn(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidParameter(name, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

/** `n` or `[min, max]`, whole ms from 0 to MAX_DELAY_MS. */
function delayRange(name: string, value: unknown): DelayRange {
  const problem = `must be an integer or [min, max] from 0 to ${MAX_DELAY_MS}`;
  if (typeof value === 'number') {
    const ms = integerIn(name, value, 0, MAX_DELAY_MS);
    return [ms, ms];
  }
  if (!Array.isArray(value) || value.length !== 2) throw invalidParameter(name, problem);
  const [min, max] = value as unknown[];
  const bounds: DelayRange = [
    integerIn(name, min, 0, MAX_DELAY_MS),
    integerIn(name, max, 0, MAX_DELAY_MS),
  ];
  if (bounds[0] > bounds[1]) throw invalidParameter(name, 'must not have its min above its max');
  return bounds;
}

/**
 * POST /__admin/faults `{error_rate?, latency_ms?, forward_delay_ms?, return_delay_ms?,
 * force_429?, rate_limit_rate?, fail_next?, scope?}`.
 */
export function parseFaultsPatch(body: unknown): Partial<FaultState> {
  const input = asRecord(body);
  const patch: Partial<FaultState> = {};
  if (input.error_rate !== undefined) {
    const rate = input.error_rate;
    if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) {
      throw invalidParameter('error_rate', 'must be a number from 0 to 1');
    }
    patch.errorRate = rate;
  }
  if (input.latency_ms !== undefined)
    patch.latencyMs = integerIn('latency_ms', input.latency_ms, 0, 60_000);
  if (input.forward_delay_ms !== undefined)
    patch.forwardDelayMs = delayRange('forward_delay_ms', input.forward_delay_ms);
  if (input.return_delay_ms !== undefined)
    patch.returnDelayMs = delayRange('return_delay_ms', input.return_delay_ms);
  if (input.fail_next !== undefined)
    patch.failNext = integerIn('fail_next', input.fail_next, 0, 1_000_000);
  if (input.force_429 !== undefined) {
    if (typeof input.force_429 !== 'boolean')
      throw invalidParameter('force_429', 'must be true or false');
    patch.force429 = input.force_429;
  }
  if (input.rate_limit_rate !== undefined) {
    const rate = input.rate_limit_rate;
    if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) {
      throw invalidParameter('rate_limit_rate', 'must be a number from 0 to 1');
    }
    patch.rateLimitRate = rate;
  }
  if (input.scope !== undefined) {
    if (input.scope !== 'send' && input.scope !== 'all') {
      throw invalidParameter('scope', 'must be "send" or "all"');
    }
    patch.scope = input.scope;
  }
  return patch;
}

/** PUT /__admin/accounts/:key `{credits?, plan?}`. */
export function parseAccountPatch(body: unknown): { credits?: number; plan?: ProviderPlan } {
  const input = asRecord(body);
  const patch: { credits?: number; plan?: ProviderPlan } = {};
  if (input.credits !== undefined) {
    patch.credits = integerIn('credits', input.credits, 0, Number.MAX_SAFE_INTEGER);
  }
  if (input.plan !== undefined) {
    if (typeof input.plan !== 'string' || !(input.plan in PLAN_RATE_LIMITS)) {
      throw invalidParameter('plan', `must be one of ${Object.keys(PLAN_RATE_LIMITS).join(', ')}`);
    }
    patch.plan = input.plan as ProviderPlan;
  }
  return patch;
}

/** `?since=` as epoch milliseconds (fractions allowed, as the log's `at` has them). */
export function parseSince(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const since = Number(value);
  if (!Number.isFinite(since)) throw invalidParameter('since', 'must be epoch milliseconds');
  return since;
}
