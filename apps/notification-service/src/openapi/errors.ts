/**
 * The error answers of each operation beyond the shared ones (400, 401, 403, 404 on a path with an
 * id, 429 after too many failed keys): status → the codes it carries. `error-catalogue.spec.ts`
 * checks that every code the service throws is listed here, and that nothing listed is unknown.
 */
/** What rendering a template with a caller's variables can refuse. */
const RENDER_ERRORS = [
  'missing_variables',
  'invalid_variables',
  'message_too_long',
  'empty_message',
  'template_too_complex',
  'render_failed',
];

export const OPERATION_ERRORS: Record<
  string,
  Partial<Record<400 | 401 | 404 | 409 | 422 | 503, string[]>>
> = {
  sendNotification: {
    400: ['invalid_idempotency_key'],
    404: ['template_not_found'],
    409: ['idempotency_in_progress'],
    422: [
      'idempotency_conflict',
      'invalid_phone_number',
      'too_many_recipients',
      'invalid_expiry',
      'scheduled_at_in_past',
      'scheduled_at_too_far',
      'callback_url_credentials',
      ...RENDER_ERRORS,
    ],
  },
  listNotifications: { 422: ['invalid_cursor', 'invalid_limit'] },
  getNotification: { 404: ['notification_not_found'] },
  cancelNotification: { 404: ['notification_not_found'] },
  createTemplate: { 409: ['template_exists'], 422: ['invalid_template', 'message_too_long'] },
  updateTemplate: { 404: ['template_not_found'], 422: ['invalid_template', 'message_too_long'] },
  listTemplates: { 422: ['invalid_cursor', 'invalid_limit'] },
  getTemplate: { 404: ['template_not_found'] },
  listTemplateVersions: { 404: ['template_not_found'], 422: ['invalid_cursor', 'invalid_limit'] },
  getTemplateVersion: { 404: ['template_not_found', 'template_version_not_found'] },
  archiveTemplate: { 404: ['template_not_found'] },
  previewTemplate: {
    404: ['template_not_found'],
    422: RENDER_ERRORS,
  },
  searchMessages: { 422: ['invalid_cursor', 'invalid_limit'] },
  getMessage: { 404: ['message_not_found'] },
  resendMessage: { 404: ['message_not_found'], 409: ['not_resendable'] },
  resendMessages: { 422: ['not_resendable'] },
  getDeliveryReport: {
    422: [
      'invalid_window',
      'window_too_large',
      'invalid_group_by',
      'too_many_buckets',
      'report_too_large',
    ],
    503: ['report_timeout'],
  },
  getCallbackSecret: { 404: ['callback_secret_not_found'] },
  listCallbackDeliveries: { 404: ['notification_not_found'] },
  redeliverCallbacks: { 404: ['notification_not_found'] },
  revokeApiKey: { 404: ['api_key_not_found'] },
  clearAuthBlock: { 404: ['auth_block_not_found'] },
  getProviderAccount: { 503: ['provider_unavailable'] },
  getReadiness: { 503: ['not_ready'] },
  receiveProviderWebhook: { 401: ['invalid_signature'] },
};

/** What a caller reads for each code: the examples' messages and the responses' descriptions. */
export const ERROR_MESSAGES: Record<string, string> = {
  validation_failed: 'Invalid request: to must be an E.164 number',
  invalid_json: 'The body is not valid JSON',
  invalid_characters: 'reference must not contain control characters',
  json_too_deep: 'The JSON body is nested more than 32 levels deep',
  duplicate_query_parameter: 'Query parameter status is given more than once',
  invalid_url: 'The query string has a percent escape that is not UTF-8',
  empty_message: 'The rendered message is empty; the provider refuses a message without text',
  template_too_complex: 'The template does more loop work than one message allows',
  render_failed: 'Template could not be rendered: unknown helper',
  invalid_idempotency_key: 'Idempotency-Key must be 1 to 255 printable characters',
  unauthorized: 'A valid API key is required (Authorization: Bearer <key>)',
  invalid_api_key: 'The API key is invalid or revoked',
  invalid_signature: 'Missing or invalid X-SMSProvider-Signature',
  forbidden: 'This API key lacks the scope notifications:write',
  too_many_failed_authentications: 'Too many failed authentications from this address',
  not_found: 'Nothing with this id',
  notification_not_found: 'No notification with this id',
  message_not_found: 'No message with this id',
  template_not_found: 'No template with key "order_shipped"',
  template_version_not_found: 'Template "order_shipped" has no version 7',
  api_key_not_found: 'No API key with this id',
  auth_block_not_found: 'No block on address 203.0.113.7',
  callback_secret_not_found: 'This team has no callback secret yet',
  payload_too_large: 'The body is larger than 1 MiB',
  unsupported_media_type: 'The body must be application/json',
  idempotency_in_progress: 'A request with this Idempotency-Key is still being processed',
  template_exists: 'A template with key "order_shipped" exists',
  not_resendable: 'Only failed or expired messages can be resent; this one is delivered',
  idempotency_conflict: 'This Idempotency-Key was used with a different request body',
  invalid_phone_number: 'to[1] is not a valid phone number',
  too_many_recipients: 'At most 1000 distinct recipients per request, got 1200',
  invalid_expiry: 'expires_at must be later than now and than scheduled_at',
  scheduled_at_in_past: 'scheduled_at is more than 5 minutes in the past',
  scheduled_at_too_far: 'scheduled_at is more than 30 days ahead',
  callback_url_credentials:
    'callback_url must not carry a user name or password (https://user:pass@host/): it is stored and shown in plain text. Verify callbacks by their signature, or put a secret in the path',
  missing_variables: 'Missing template variables: name',
  invalid_variables: 'Invalid template variables: name must be a string, number or boolean',
  message_too_long: 'Rendered message is 1650 characters long; the maximum is 1600',
  invalid_template: 'Invalid template: unclosed {{#each}}',
  invalid_cursor: 'cursor is not a cursor this API issued',
  invalid_limit: 'limit must be between 1 and 200',
  invalid_window: 'from must be before to',
  window_too_large: 'A report covers at most 366 days; narrow since/until',
  invalid_group_by: 'group_by takes day or hour, not both',
  too_many_buckets: 'A report has at most 744 hour buckets; narrow since/until or group by day',
  report_too_large:
    'This report would have 216,000 rows (300 template × 720 hours); a report has at most 10,000. Narrow it: a shorter window (since/until): at most 33 hours with these 300 groups; group_by=template,day (9,000 rows); template=<key>: one template',
  report_timeout: 'The report took too long; narrow the window',
  provider_unavailable: 'The SMS provider did not answer',
  not_ready: 'Not ready: redis (connection refused) down',
  database_unavailable:
    'The database is unavailable; try again shortly (with the same Idempotency-Key, a retry never creates a second notification)',
};
