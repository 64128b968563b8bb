export const CALLBACK_QUEUE = 'status-callbacks';
export const CALLBACK_JOB = 'deliver';

export interface CallbackJobData {
  deliveryId: string;
  /** The delivery's attempts count when this job was planned; a job for another count is obsolete. */
  attempt: number;
}

/** How often one instance looks for callbacks that are due and have no job in Redis. */
export const CALLBACK_DISPATCH_INTERVAL_MS = 500;
/** Due callbacks handed to Bull per dispatch pass. */
export const CALLBACK_DISPATCH_BATCH = 500;
/** Callback requests in flight per worker process. */
export const CALLBACK_CONCURRENCY = 10;
/** No retry waits longer than this, whatever the attempt number. */
export const CALLBACK_RETRY_MAX_MS = 60 * 60 * 1000;
/** Kept in last_error; enough to diagnose, short enough to list. */
export const CALLBACK_ERROR_MAX_LENGTH = 300;
