export const MESSAGE_STATUSES = [
  'scheduled',
  'pending',
  'queued',
  'sent',
  'delivered',
  'failed',
  'expired',
  'canceled',
] as const;

export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<MessageStatus> = new Set([
  'delivered',
  'failed',
  'expired',
  'canceled',
]);

/**
 * Forward order of the lifecycle. A change is allowed only to a later rank; all terminal states
 * share the top rank so none replaces another.
 */
const RANK: Record<MessageStatus, number> = {
  scheduled: 0,
  pending: 1,
  queued: 2,
  sent: 3,
  delivered: 4,
  failed: 4,
  expired: 4,
  canceled: 4,
};

export function isTerminal(status: MessageStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

/** Whether a message may move from `from` to `to`: forward only, and never out of a final state. */
export function canTransition(from: MessageStatus, to: MessageStatus): boolean {
  if (isTerminal(from)) return false;
  if (to === 'canceled') return from === 'scheduled' || from === 'pending';
  return RANK[to] > RANK[from];
}

/** Statuses a message may be in for a move to `to` to be legal (for SQL `status IN (...)`). */
export function statusesBefore(to: MessageStatus): MessageStatus[] {
  return MESSAGE_STATUSES.filter((from) => canTransition(from, to));
}

export function isMessageStatus(value: unknown): value is MessageStatus {
  return typeof value === 'string' && (MESSAGE_STATUSES as readonly string[]).includes(value);
}
