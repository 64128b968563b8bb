import { SmsProviderError } from '@app/sms-provider/helpers';
import { CallAbandonedError, ProviderUnavailableError } from '../provider';
import { decideProviderError, type RetrySettings } from './provider-error-policy';

const settings: RetrySettings = { maxAttempts: 6, retryBaseMs: 2000, retryMaxMs: 300_000 };

function providerError(
  code: ConstructorParameters<typeof SmsProviderError>[0]['code'],
  extra: Partial<ConstructorParameters<typeof SmsProviderError>[0]> = {},
): SmsProviderError {
  return new SmsProviderError({ code, message: `${code} for +14155550100`, ...extra });
}

describe('decideProviderError', () => {
  it.each([
    ['server_error', { httpStatus: 500 }, 'provider_failed'],
    ['server_error', { httpStatus: 503 }, 'provider_failed'],
    ['timeout', {}, 'provider_failed'],
    ['network_error', { neverSent: true }, 'provider_unreachable'],
    ['network_error', {}, 'provider_failed'],
  ] as const)(
    '%s %j is the provider failing: given back without an attempt, even at the last one',
    (code, extra, event) => {
      const decision = decideProviderError(providerError(code, extra), 6, settings);
      expect(decision).toMatchObject({
        kind: 'retry',
        countsAsAttempt: false,
        delayMs: settings.retryBaseMs,
        event,
      });
    },
  );

  it('six server errors in a row never fail a message', () => {
    for (let attempts = 0; attempts < 50; attempts += 1) {
      const decision = decideProviderError(providerError('server_error'), attempts, settings);
      expect(decision.kind).toBe('retry');
    }
  });

  it.each(['invalid_phone_number', 'message_too_long', 'unexpected_response'] as const)(
    '%s is about the message: it fails at once with the code, number masked',
    (code) => {
      const decision = decideProviderError(providerError(code), 1, settings);
      expect(decision).toEqual({ kind: 'fail', code, message: `${code} for +14*****0100` });
    },
  );

  it("keeps the provider's own code when it was one we did not know", () => {
    const error = providerError('unexpected_response', { providerCode: 'blocked_route' });
    expect(decideProviderError(error, 1, settings)).toMatchObject({
      kind: 'fail',
      code: 'blocked_route',
    });
  });

  it('a 429 waits out the window the provider named, no attempt', () => {
    const error = providerError('rate_limit_exceeded', { retryAfterMs: 700 });
    expect(decideProviderError(error, 3, settings)).toMatchObject({
      kind: 'retry',
      delayMs: 700,
      countsAsAttempt: false,
      event: 'rate_limited',
    });
  });

  it('every account out of credits pauses sending and gives the message back at once', () => {
    const error = providerError('insufficient_credits', { account: 'backup' });
    expect(decideProviderError(error, 0, settings)).toMatchObject({
      kind: 'retry',
      delayMs: 0,
      countsAsAttempt: false,
      event: 'paused_insufficient_credits',
      pauseForCredits: true,
      details: { code: 'insufficient_credits', account: 'backup' },
    });
  });

  it('a refused key fails nothing: the message waits for the operator to replace it', () => {
    expect(decideProviderError(providerError('authentication_failed'), 0, settings)).toMatchObject({
      kind: 'retry',
      countsAsAttempt: false,
      event: 'provider_key_refused',
    });
  });

  it('no account available: back when the first one probes, spread over half as long again', () => {
    const error = new ProviderUnavailableError('all open', 4000, { primary: 'provider_failing' });
    const early = decideProviderError(error, 0, settings, () => 0);
    const late = decideProviderError(error, 0, settings, () => 0.999);
    expect(early).toMatchObject({
      kind: 'retry',
      delayMs: 4000,
      countsAsAttempt: false,
      event: 'provider_unavailable',
      details: { accounts: { primary: 'provider_failing' } },
    });
    expect(late).toMatchObject({ delayMs: 5998 });
  });

  it('an abandoned call is given back at once, no attempt', () => {
    const decision = decideProviderError(new CallAbandonedError('lease lapsed'), 2, settings);
    expect(decision).toEqual({
      kind: 'retry',
      delayMs: 0,
      countsAsAttempt: false,
      event: 'claim_abandoned',
      details: { reason: 'lease lapsed' },
    });
  });
});
