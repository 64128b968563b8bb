import { isE164 } from '@app/sms-provider/helpers';

export const MAX_RECIPIENTS = 1000;

export interface RecipientCheck {
  recipients: string[];
  invalid: string[];
}

/** One entry per distinct valid number, in the caller's order; invalid entries listed as given. */
export function checkRecipients(to: string | string[]): RecipientCheck {
  const list = Array.isArray(to) ? to : [to];
  const seen = new Set<string>();
  const recipients: string[] = [];
  const invalid: string[] = [];
  for (const raw of list) {
    // Strict: the caller must send E.164 ("+14155550100"), we don't guess a country or strip spaces.
    if (!isE164(raw)) {
      if (!invalid.includes(raw)) invalid.push(raw);
      continue;
    }
    if (!seen.has(raw)) {
      seen.add(raw);
      recipients.push(raw);
    }
  }
  return { recipients, invalid };
}
