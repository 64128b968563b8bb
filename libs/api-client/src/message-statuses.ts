import {
  type components,
  messageSummaryCategoryValues,
  messageSummaryStatusValues,
} from './generated/openapi-types';

export type MessageStatus = components['schemas']['MessageSummary']['status'];

/** A message's statuses in lifecycle order (the document's), for pickers and filters. */
export const MESSAGE_STATUSES: readonly MessageStatus[] = messageSummaryStatusValues;

/** The statuses after which nothing changes any more. */
export const FINAL_STATUSES = [
  'delivered',
  'failed',
  'expired',
  'canceled',
] as const satisfies readonly MessageStatus[];

export type MessageCategory = components['schemas']['MessageSummary']['category'];

/** What a message can be for (the document's order), for pickers and filters. */
export const MESSAGE_CATEGORIES: readonly MessageCategory[] = messageSummaryCategoryValues;
