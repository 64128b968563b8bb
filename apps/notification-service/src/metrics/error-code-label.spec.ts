import { PROVIDER_ERROR_CODES } from '@app/sms-provider/helpers';
import { ERROR_CODE_LABELS, errorCodeLabel } from './error-code-label';

describe(errorCodeLabel.name, () => {
  it('keeps the provider’s documented codes and ours', () => {
    for (const code of [
      ...PROVIDER_ERROR_CODES,
      'status_timeout',
      'provider_failed',
      'expired',
      'recipient_suppressed',
      'recipient_rate_limited',
      'validity_elapsed',
    ]) {
      expect(errorCodeLabel(code)).toBe(code);
    }
  });

  it('maps anything else to other: a fixed set of label values whatever arrives', () => {
    const seen = new Set(
      Array.from({ length: 1000 }, (_, i) => errorCodeLabel(`made_up_${i}`)).concat(
        errorCodeLabel('x'.repeat(10_000)),
      ),
    );
    expect([...seen]).toEqual(['other']);
    // The provider's documented codes, the client's, ours and recipient protection's: a few
    // dozen series at most, whatever the traffic.
    expect(ERROR_CODE_LABELS.size).toBeLessThan(30);
  });
});
