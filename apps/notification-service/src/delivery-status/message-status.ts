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

/** Every status a message can still leave: the backlog, waiting or at the provider. */
export const UNFINISHED_STATUSES: readonly MessageStatus[] = MESSAGE_STATUSES.filter(
  (status) => !TERMINAL_STATUSES.has(status),
);

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

/** The first status of a message accepted for a later time. */
export const INITIAL_SCHEDULED_STATUS: MessageStatus = 'scheduled';

/** The only status a worker may claim a message in for a provider call. */
export const CLAIMABLE_STATUS: MessageStatus = 'pending';

/** Not yet handed to the provider: these can still be canceled, expired by us, or claimed. */
export const UNSENT_STATUSES: readonly MessageStatus[] = MESSAGE_STATUSES.filter(
  (status) => RANK[status] < RANK.queued,
);

/** Held by the provider, waiting for its final report. */
export const WITH_PROVIDER_STATUSES: readonly MessageStatus[] = MESSAGE_STATUSES.filter(
  (status) => !isTerminal(status) && RANK[status] >= RANK.queued,
);

/** Ended without reaching the phone: refused or failed by the provider, or expired. Resendable. */
export const FAILURE_STATUSES: readonly MessageStatus[] = ['failed', 'expired'];

/** The outcomes a delivery rate is taken over: delivered against failed (canceled never tried). */
export const OUTCOME_STATUSES: readonly MessageStatus[] = ['delivered', ...FAILURE_STATUSES];

export function isFailure(status: MessageStatus): boolean {
  return FAILURE_STATUSES.includes(status);
}

/** A move to `to` means the provider had sent the message by then (sets `sent_at`). */
export function impliesSent(to: MessageStatus): boolean {
  return to === 'sent' || to === 'delivered';
}

export function isMessageStatus(value: unknown): value is MessageStatus {
  return typeof value === 'string' && (MESSAGE_STATUSES as readonly string[]).includes(value);
}

/**
 * Each status as an SQL literal, so queries name statuses through this file and a renamed or added
 * status cannot leave a stale string behind in some query. Only these constants reach SQL text,
 * never input.
 */
export const STATUS_SQL = Object.fromEntries(
  MESSAGE_STATUSES.map((status) => [status, `'${status}'`]),
) as Record<MessageStatus, string>;

/** A set of statuses as an SQL list for `status IN (...)`. */
export function statusListSql(statuses: readonly MessageStatus[]): string {
  return statuses.map((status) => STATUS_SQL[status]).join(', ');
}
