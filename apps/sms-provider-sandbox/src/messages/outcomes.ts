/**
 * What happens to a message, decided by the last three digits of the recipient so that tests and
 * demos can ask for every path deterministically (README.md, "Test numbers").
 */
export type Outcome =
  /** Refused at send time with 400 invalid_phone_number though the number is valid E.164. */
  | 'refused'
  | 'failed'
  | 'expired'
  /** Delivered, but no webhook is ever sent: only polling can see it. */
  | 'delivered_silently'
  /** Reaches sent (one webhook) and never moves again. */
  | 'stuck_sent'
  | 'delivered';

const BY_SUFFIX: Readonly<Record<string, Outcome>> = {
  '400': 'refused',
  '666': 'failed',
  '777': 'expired',
  '888': 'delivered_silently',
  '999': 'stuck_sent',
};

export function outcomeFor(phoneNumber: string): Outcome {
  return BY_SUFFIX[phoneNumber.slice(-3)] ?? 'delivered';
}
