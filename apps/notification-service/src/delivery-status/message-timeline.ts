/** One row of a message's timeline as read (a MessageEvent entity has this shape too). */
export interface TimelineEvent {
  type: string;
  status: string | null;
  source: string;
  occurredAt: Date;
  details: Record<string, unknown> | null;
}

/** One row of a message's timeline as every API answer shows it. */
export interface TimelineEntry {
  type: string;
  status: string | null;
  source: string;
  occurred_at: string;
  details: Record<string, unknown> | null;
}

/** The one mapping of a timeline row to its API form, for a notification's view and a message's. */
export function toTimelineEntry(event: TimelineEvent): TimelineEntry {
  return {
    type: event.type,
    status: event.status,
    source: event.source,
    occurred_at: event.occurredAt.toISOString(),
    details: event.details,
  };
}
