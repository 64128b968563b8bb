import { retryDelayMs } from '../common/retry-policy';
import { maskPhonesIn } from '../logging/mask';
import { CallAbandonedError, ProviderUnavailableError, SmsProviderError } from '../provider';

/** What to do with a message whose provider call ended in an error. */
export type ProviderErrorDecision =
  | {
      kind: 'retry';
      delayMs: number;
      /** Only an error about this message costs it one of its SEND_MAX_ATTEMPTS. */
      countsAsAttempt: boolean;
      /** The timeline row's type. */
      event: string;
      details: Record<string, unknown>;
      /** Every account is out of credits: sending as a whole pauses until one has some. */
      pauseForCredits?: true;
    }
  | { kind: 'fail'; code: string; message: string };

export interface RetrySettings {
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

/**
 * The one place that decides what a provider error means for the message (pure: the caller
 * writes it down). The rule: only an error about this message (a refused number, a text too
 * long, an answer we cannot read) counts against its attempts or fails it. The provider failing
 * as a whole (5xx, timeouts, refused connections), rate limits, and accounts that cannot take
 * calls (circuit open, out of credits, key refused) give the message back without an attempt:
 * it waits, at most until its validity, and is sent when an account can take it.
 *
 * `random` spreads the messages given back for one closed account, so they do not all return
 * at its first probe.
 */
export function decideProviderError(
  error: SmsProviderError | CallAbandonedError,
  attempts: number,
  settings: RetrySettings,
  random: () => number = Math.random,
): ProviderErrorDecision {
  if (error instanceof ProviderUnavailableError) {
    const delayMs = Math.round(error.retryInMs * (1 + random() / 2));
    return {
      kind: 'retry',
      delayMs,
      countsAsAttempt: false,
      event: 'provider_unavailable',
      details: { reason: error.message, accounts: error.accounts, retry_in_ms: delayMs },
    };
  }
  if (error instanceof CallAbandonedError) {
    return {
      kind: 'retry',
      delayMs: 0,
      countsAsAttempt: false,
      event: 'claim_abandoned',
      details: { reason: error.message },
    };
  }
  const details: Record<string, unknown> = {
    code: error.code,
    message: maskPhonesIn(error.message),
    attempt: attempts,
    ...(error.account === null ? {} : { account: error.account }),
  };
  const noAttempt = (
    delayMs: number,
    event: string,
  ): ProviderErrorDecision & { kind: 'retry' } => ({
    kind: 'retry',
    delayMs,
    countsAsAttempt: false,
    event,
    details,
  });
  switch (error.code) {
    case 'rate_limit_exceeded':
      // Not the message's fault: wait out the provider's window.
      return noAttempt(error.retryAfterMs ?? 1000, 'rate_limited');
    case 'insufficient_credits':
      // Reaches here only when every account is out (the gateway fails over before that).
      return { ...noAttempt(0, 'paused_insufficient_credits'), pauseForCredits: true };
    case 'authentication_failed':
      // The gateway holds the account back; a key an operator replaces is used at the next try.
      return noAttempt(settings.retryBaseMs, 'provider_key_refused');
    case 'network_error':
    case 'timeout':
    case 'server_error':
      // The provider failing, not the message: the account's circuit counts these, and opens
      // (pausing the account) when they repeat. A refused connection never reached the provider;
      // after a timeout it may have taken the message, and the retry may send it again (the one
      // duplicate window, docs/guarantees.md).
      return noAttempt(
        settings.retryBaseMs,
        error.neverSent ? 'provider_unreachable' : 'provider_failed',
      );
    default:
      break;
  }
  // invalid_phone_number, message_too_long, unexpected_response: about this message.
  if (!error.retryable || attempts >= settings.maxAttempts) {
    return {
      kind: 'fail',
      code: error.providerCode ?? error.code,
      message: maskPhonesIn(error.message),
    };
  }
  const delayMs = retryDelayMs(attempts, settings.retryBaseMs, settings.retryMaxMs);
  return {
    kind: 'retry',
    delayMs,
    countsAsAttempt: true,
    event: 'attempt_failed',
    details: { ...details, retry_in_ms: delayMs },
  };
}
