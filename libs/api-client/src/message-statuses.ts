import type { components } from './generated/openapi-types';

export type MessageStatus = components['schemas']['MessageSummary']['status'];

/** A message's statuses in lifecycle order, for pickers and filters. */
export const MESSAGE_STATUSES = [
  'scheduled',
  'pending',
  'queued',
  'sent',
  'delivered',
  'failed',
  'expired',
  'canceled',
] as const satisfies readonly MessageStatus[];

/** The statuses after which nothing changes any more. */
export const FINAL_STATUSES = [
  'delivered',
  'failed',
  'expired',
  'canceled',
] as const satisfies readonly MessageStatus[];

type MustBeEmpty<T extends never> = T;

/**
 * Fails to compile, naming the status, when openapi.json has one the list above lacks
 * (`satisfies` already refuses one the document does not know).
 */
export type UnlistedStatus = MustBeEmpty<Exclude<MessageStatus, (typeof MESSAGE_STATUSES)[number]>>;
