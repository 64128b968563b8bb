export const SEND_QUEUE = 'sms-send';
export const SEND_JOB = 'send';

export interface SendJobData {
  messageId: string;
  /** The message's dispatch_seq when this job was planned; an older job is obsolete. */
  seq: number;
  /** The request that created the message, so the worker's log lines can be tied to it. */
  requestId?: string;
  /** The W3C trace context of that request (traceparent), when tracing is on. */
  trace?: Record<string, string>;
}

/** A delayed job is released this much before its time; the worker waits out the rest precisely. */
export const SCHEDULE_EARLY_MS = 400;

/** Why a message its validity ran out for was never sent (category validity or expires_at). */
export const VALIDITY_ELAPSED_MESSAGE =
  "Its validity (its category's, or the request's expires_at) ran out before it could be sent";
