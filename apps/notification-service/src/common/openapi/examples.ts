/**
 * The pieces the operations' example answers (`@Operation({ example })`) are made of: one
 * notification, message, template and key throughout, so the examples agree with each other.
 * `redocly lint` checks every example against its schema (no-invalid-media-type-examples).
 */
export const AT = '2026-12-01T09:30:00.000Z';
export const LATER = '2026-12-01T09:30:04.000Z';
export const NOTIFICATION_ID = '6f1c2a5e-3b7d-4c1e-9a8f-2d4b6c8e0a11';
export const MESSAGE_ID = 'b3e9d7a1-5c2f-4e8b-a6d4-1f3c5e7a9b20';
export const RESENT_ID = 'c4fae8b2-6d3a-4f9c-b7e5-2a4d6f8bac31';
export const DELIVERY_ID = 'd5abf9c3-7e4b-4a0d-88f6-3b5e7a9cbd42';
export const KEY_ID = 'e6bca0d4-8f5c-4b1e-99a7-4c6f8babce53';

/** One message in a cancel answer. */
export const MESSAGE_STATE = { id: MESSAGE_ID, to: '+1415555****', status: 'pending' };

/** One message in a 202: due now, held out of quiet hours, or stopped by recipient protection. */
export const ACCEPTED_MESSAGE = {
  ...MESSAGE_STATE,
  category: 'transactional',
  scheduled_at: null,
  expires_at: '2026-12-02T09:30:00.000Z',
  error: null,
};

export const TEMPLATE = {
  key: 'order_shipped',
  version: 2,
  body: 'Hi {{name}}, order {{order.id}} is on its way.',
  variables: ['name', 'order.id'],
  sender_id: 'ACME',
  description: 'Sent when the warehouse hands an order to the carrier',
  owner_team: 'checkout',
  category: 'transactional',
  smart_encoding: false,
  warnings: [] as unknown[],
  created_at: AT,
  updated_at: AT,
  archived: false,
};

export const NOTIFICATION = {
  id: NOTIFICATION_ID,
  team: 'checkout',
  template: 'order_shipped',
  template_version: 2,
  from: 'ACME',
  priority: 'normal',
  reference: 'order-8812',
  callback_url: 'https://checkout.internal.example/sms-events',
  scheduled_at: null,
  expires_at: null,
  created_at: AT,
  test: false,
  status_counts: { delivered: 1 },
};

export const TIMELINE = [
  { type: 'status', status: 'pending', source: 'api', occurred_at: AT, details: null },
  { type: 'status', status: 'queued', source: 'worker', occurred_at: AT, details: null },
  { type: 'status', status: 'sent', source: 'webhook', occurred_at: LATER, details: null },
  { type: 'status', status: 'delivered', source: 'webhook', occurred_at: LATER, details: null },
];

export const MESSAGE_SUMMARY = {
  id: MESSAGE_ID,
  notification_id: NOTIFICATION_ID,
  team: 'checkout',
  template: 'order_shipped',
  reference: 'order-8812',
  to: '+1415555****',
  status: 'delivered',
  provider_message_id: 'msg_8Jq2vX4p',
  provider_account: 'default',
  error: null,
  attempts: 1,
  segments: 1,
  category: 'transactional',
  scheduled_at: null,
  expires_at: '2026-12-02T09:30:00.000Z',
  submitted_at: AT,
  queued_at: AT,
  delivered_at: LATER,
  completed_at: LATER,
  resend_of: null,
  resent_as: null,
};

export const FAILED_SUMMARY = {
  ...MESSAGE_SUMMARY,
  status: 'failed',
  error: { code: 'invalid_number', message: 'The number is not reachable' },
  delivered_at: null,
};

export const API_KEY = {
  id: KEY_ID,
  name: 'checkout-service',
  team: 'checkout',
  scopes: ['notifications:send', 'notifications:read'],
  key_prefix: 'nk_3kQ9b',
  created_at: AT,
  last_used_at: LATER,
  revoked_at: null,
};

export const CALLBACK_DELIVERY = {
  id: DELIVERY_ID,
  message_id: MESSAGE_ID,
  event: 'message.delivered',
  status: 'delivered',
  attempts: 1,
  last_status_code: 204,
  last_error: null,
  next_attempt_at: null,
  created_at: LATER,
  updated_at: LATER,
  delivered_at: LATER,
  redelivered_at: null,
};

export const FIGURES = {
  total: 1204,
  scheduled: 0,
  pending: 0,
  queued: 0,
  sent: 12,
  delivered: 1170,
  failed: 15,
  expired: 3,
  canceled: 0,
  suppressed: 4,
  delivery_rate: 0.985,
  p50_delivery_seconds: 3.1,
  p95_delivery_seconds: 7.4,
  p50_handover_seconds: 0.4,
  p95_handover_seconds: 1.9,
  segments: 1320,
};

export const PAUSE = {
  paused: true,
  reason: 'manual',
  since: AT,
  note: 'Provider maintenance window',
  paused_by: 'ops',
};

/** A template's version view: the template without what only the current version has. */
export function versionOf(template: typeof TEMPLATE) {
  const {
    key,
    version,
    body,
    variables,
    sender_id,
    description,
    owner_team,
    category,
    smart_encoding,
    warnings,
    created_at,
  } = template;
  return {
    key,
    version,
    body,
    variables,
    sender_id,
    description,
    owner_team,
    category,
    smart_encoding,
    warnings,
    created_at,
  };
}
