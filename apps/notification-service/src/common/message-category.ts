/**
 * What a message is for, frozen from its template version. The category decides how the service
 * protects the person receiving it: which opt-outs stop it, how many may reach one number in a
 * window, whether it waits out the night, and how long it stays worth sending.
 */
export const MESSAGE_CATEGORIES = ['otp', 'transactional', 'marketing'] as const;
export type MessageCategory = (typeof MESSAGE_CATEGORIES)[number];
export const DEFAULT_CATEGORY: MessageCategory = 'transactional';

/** Who an entry of the suppression list stops: marketing only, or everything but one-time codes. */
export const SUPPRESSION_SCOPES = ['marketing', 'all'] as const;
export type SuppressionScope = (typeof SUPPRESSION_SCOPES)[number];

/**
 * The suppression scopes that stop a message of each category. A one-time code is never
 * suppressed: the person asked for it a moment ago, and an opt-out from promotions must not lock
 * them out of their account.
 */
export const SUPPRESSED_BY: Record<MessageCategory, readonly SuppressionScope[]> = {
  otp: [],
  transactional: ['all'],
  marketing: ['marketing', 'all'],
};

export function isMessageCategory(value: unknown): value is MessageCategory {
  return typeof value === 'string' && (MESSAGE_CATEGORIES as readonly string[]).includes(value);
}
