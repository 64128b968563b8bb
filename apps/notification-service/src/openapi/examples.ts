/**
 * One realistic answer per operation, by operation id: what a caller sees, consistent across
 * operations (the same notification, message and template throughout). `redocly lint` checks each
 * against its schema (no-invalid-media-type-examples), and a unit test that every JSON answer has
 * one.
 */
const AT = '2026-12-01T09:30:00.000Z';
const LATER = '2026-12-01T09:30:04.000Z';
const NOTIFICATION_ID = '6f1c2a5e-3b7d-4c1e-9a8f-2d4b6c8e0a11';
const MESSAGE_ID = 'b3e9d7a1-5c2f-4e8b-a6d4-1f3c5e7a9b20';
const RESENT_ID = 'c4fae8b2-6d3a-4f9c-b7e5-2a4d6f8bac31';
const DELIVERY_ID = 'd5abf9c3-7e4b-4a0d-88f6-3b5e7a9cbd42';
const KEY_ID = 'e6bca0d4-8f5c-4b1e-99a7-4c6f8babce53';

const ACCEPTED_MESSAGE = { id: MESSAGE_ID, to: '+1415555****', status: 'pending' };

const TEMPLATE = {
  key: 'order_shipped',
  version: 2,
  body: 'Hi {{name}}, order {{order.id}} is on its way.',
  variables: ['name', 'order.id'],
  sender_id: 'ACME',
  description: 'Sent when the warehouse hands an order to the carrier',
  owner_team: 'checkout',
  created_at: AT,
  updated_at: AT,
  archived: false,
};

const NOTIFICATION = {
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
  status_counts: { delivered: 1 },
};

const TIMELINE = [
  { type: 'status', status: 'pending', source: 'api', occurred_at: AT, details: null },
  { type: 'status', status: 'queued', source: 'worker', occurred_at: AT, details: null },
  { type: 'status', status: 'sent', source: 'webhook', occurred_at: LATER, details: null },
  { type: 'status', status: 'delivered', source: 'webhook', occurred_at: LATER, details: null },
];

const MESSAGE_SUMMARY = {
  id: MESSAGE_ID,
  notification_id: NOTIFICATION_ID,
  team: 'checkout',
  template: 'order_shipped',
  reference: 'order-8812',
  to: '+1415555****',
  status: 'delivered',
  provider_message_id: 'msg_8Jq2vX4p',
  error: null,
  attempts: 1,
  segments: 1,
  submitted_at: AT,
  queued_at: AT,
  delivered_at: LATER,
  completed_at: LATER,
  resend_of: null,
  resent_as: null,
};

const FAILED_SUMMARY = {
  ...MESSAGE_SUMMARY,
  status: 'failed',
  error: { code: 'invalid_number', message: 'The number is not reachable' },
  delivered_at: null,
};

const API_KEY = {
  id: KEY_ID,
  name: 'checkout-service',
  team: 'checkout',
  scopes: ['notifications:send', 'notifications:read'],
  key_prefix: 'nk_3kQ9b',
  created_at: AT,
  last_used_at: LATER,
  revoked_at: null,
};

const CALLBACK_DELIVERY = {
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

const FIGURES = {
  total: 1200,
  scheduled: 0,
  pending: 0,
  queued: 0,
  sent: 12,
  delivered: 1170,
  failed: 15,
  expired: 3,
  canceled: 0,
  delivery_rate: 0.985,
  p50_delivery_seconds: 3.1,
  p95_delivery_seconds: 7.4,
  p50_handover_seconds: 0.4,
  p95_handover_seconds: 1.9,
  segments: 1320,
};

const PAUSE = {
  paused: true,
  reason: 'manual',
  since: AT,
  note: 'Provider maintenance window',
  paused_by: 'ops',
};

export const RESPONSE_EXAMPLES: Record<string, unknown> = {
  createApiKey: { ...API_KEY, last_used_at: null, key: 'nk_3kQ9bX7mV2pL8sR4tW6yZ1cF5hJ0aD2eG4iK6' },
  listApiKeys: [API_KEY],
  listAuthBlocks: [
    { kind: 'address', value: '203.0.113.7', failures: 20, blocked_until: AT },
    { kind: 'key_prefix', value: 'nk_3kQ9b', failures: 57, blocked_until: AT },
  ],
  getLiveness: { status: 'ok' },
  getReadiness: { status: 'ok', info: { database: { status: 'up' }, redis: { status: 'up' } } },
  createTemplate: { ...TEMPLATE, version: 1 },
  listTemplates: { data: [TEMPLATE], next_cursor: null },
  updateTemplate: TEMPLATE,
  getTemplate: TEMPLATE,
  listTemplateVersions: {
    data: [
      { ...versionOf(TEMPLATE), version: 1, current: false },
      { ...versionOf(TEMPLATE), current: true },
    ],
    next_cursor: null,
  },
  getTemplateVersion: { ...versionOf(TEMPLATE), current: true },
  previewTemplate: {
    text: 'Hi Ada, order 8812 is on its way.',
    characters: 33,
    encoding: 'GSM-7',
    segments: 1,
  },
  sendNotification: {
    id: NOTIFICATION_ID,
    status: 'accepted',
    template: 'order_shipped',
    template_version: 2,
    scheduled_at: null,
    messages: [ACCEPTED_MESSAGE],
  },
  listNotifications: { data: [NOTIFICATION], next_cursor: null },
  getNotification: {
    ...NOTIFICATION,
    messages: [
      {
        id: MESSAGE_ID,
        to: '+1415555****',
        status: 'delivered',
        provider_message_id: 'msg_8Jq2vX4p',
        error: null,
        attempts: 1,
        segments: 1,
        encoding: 'GSM-7',
        characters: 33,
        credits_used: 1,
        submitted_at: AT,
        queued_at: AT,
        sent_at: LATER,
        delivered_at: LATER,
        updated_at: LATER,
        events: TIMELINE,
      },
    ],
  },
  cancelNotification: {
    id: NOTIFICATION_ID,
    canceled: 1,
    messages: [{ ...ACCEPTED_MESSAGE, status: 'canceled' }],
  },
  searchMessages: { data: [MESSAGE_SUMMARY], next_cursor: null },
  resendMessages: { matched: 15, resent: 15, remaining: 0, dry_run: false },
  getMessage: { ...MESSAGE_SUMMARY, events: TIMELINE },
  resendMessage: {
    created: true,
    message: {
      ...FAILED_SUMMARY,
      id: RESENT_ID,
      status: 'pending',
      error: null,
      attempts: 0,
      provider_message_id: null,
      queued_at: null,
      completed_at: null,
      resend_of: MESSAGE_ID,
    },
  },
  getQueueState: {
    paused: false,
    reason: null,
    since: null,
    note: null,
    paused_by: null,
    backlog: {
      scheduled: 40,
      scheduled_due_soon: 2,
      pending: 120,
      pending_due: 118,
      claimed: 6,
      at_provider: 35,
      oldest_pending_seconds: 11.5,
    },
    send_rate: { per_second: 9.8, per_second_last_minute: 9.7, plan_limit_per_second: 10 },
    credits: { remaining: 48210, as_of: AT },
    jobs: { waiting: 112, active: 6, delayed: 42, failed: 0 },
  },
  pauseSending: PAUSE,
  resumeSending: { paused: false, reason: null, since: null, note: null, paused_by: null },
  getProviderAccount: {
    plan: 'standard',
    credits_remaining: 48210,
    rate_limit: { limit: 10, remaining: 9, reset_seconds: 1 },
  },
  receiveProviderWebhook: { received: true, outcome: 'applied' },
  getDeliveryReport: {
    since: '2026-11-30T00:00:00.000Z',
    until: '2026-12-01T00:00:00.000Z',
    group_by: 'template',
    team: 'checkout',
    template: null,
    rows: [{ ...FIGURES, template: 'order_shipped' }],
    totals: FIGURES,
    failures: [{ error_code: 'invalid_number', failed: 15, expired: 0 }],
  },
  rotateCallbackSecret: {
    team: 'checkout',
    created_at: AT,
    secret: 'whsec_Zk3pQ8vN1xR6tB2mY7cL4hF9',
  },
  getCallbackSecret: { team: 'checkout', created_at: AT },
  listCallbackDeliveries: { data: [CALLBACK_DELIVERY] },
  redeliverCallbacks: {
    data: [{ ...CALLBACK_DELIVERY, status: 'pending', delivered_at: null, redelivered_at: LATER }],
  },
  listFailedCallbacks: {
    data: [
      {
        ...CALLBACK_DELIVERY,
        status: 'failed',
        attempts: 8,
        last_status_code: 503,
        last_error: 'HTTP 503',
        delivered_at: null,
        notification_id: NOTIFICATION_ID,
      },
    ],
  },
};

/** The CSV form of the delivery report, and the metrics' text form. */
export const TEXT_EXAMPLES: Record<string, Record<string, string>> = {
  getDeliveryReport: {
    'text/csv':
      'since,until,template,total,scheduled,pending,queued,sent,delivered,failed,expired,canceled,' +
      'delivery_rate,p50_delivery_seconds,p95_delivery_seconds,p50_handover_seconds,' +
      'p95_handover_seconds,segments\r\n' +
      '2026-11-30T00:00:00.000Z,2026-12-01T00:00:00.000Z,order_shipped,1200,0,0,0,12,1170,15,3,0,' +
      '0.985,3.1,7.4,0.4,1.9,1320\r\n',
  },
  getMetrics: {
    'text/plain':
      '# HELP notify_message_status_total Message status changes by new status\n' +
      '# TYPE notify_message_status_total counter\n' +
      'notify_message_status_total{status="delivered"} 1170\n',
  },
};

function versionOf(template: typeof TEMPLATE) {
  const { key, version, body, variables, sender_id, description, owner_team, created_at } =
    template;
  return { key, version, body, variables, sender_id, description, owner_team, created_at };
}
