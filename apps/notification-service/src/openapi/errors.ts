/**
 * What a caller reads for each code: the message of its example in the operations' error answers.
 * Which operation answers with which code is said by the handler's `@Operation({ errors })`;
 * `error-catalogue.spec.ts` checks that every code thrown is listed there and has a message here.
 */
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
  template_draft_not_found:
    'Template "order_shipped" has no draft 5a0e7c52-3d47-4c8e-9a55-0d2f4a2b9f10',
  draft_outdated:
    'The draft was based on version 2, but version 3 is current now; compare them, save the draft again, then publish',
  too_many_drafts: 'Template "order_shipped" has 20 drafts already; publish or discard one first',
  api_key_not_found: 'No API key with this id',
  auth_block_not_found: 'No block on address 203.0.113.7',
  callback_secret_not_found: 'This team has no callback secret yet',
  suppression_not_found: 'No live suppression of this number with scope marketing',
  team_not_found: 'No team checkout',
  provider_account_not_found: 'No provider account named backup is configured',
  payload_too_large: 'The body is larger than 1 MiB',
  unsupported_media_type: 'The body must be application/json',
  idempotency_in_progress: 'A request with this Idempotency-Key is still being processed',
  template_exists: 'A template with key "order_shipped" exists',
  not_resendable: 'Only failed or expired messages can be resent; this one is delivered',
  idempotency_conflict: 'This Idempotency-Key was used with a different request body',
  invalid_phone_number: 'to[1] is not a valid phone number',
  too_many_recipients: 'At most 1000 distinct recipients per request, got 1200',
  invalid_expiry: 'expires_at must be later than now and than scheduled_at',
  budget_exceeded:
    'Team checkout has 9,990 of its 10,000 credits this month reserved or used; this request needs 20',
  team_backlog_full:
    "Team checkout has 100,000 unsent messages, at most 100,000 (with this request's 3): retry once some are sent",
  invalid_timezone:
    'timezone must be an IANA time zone name such as Europe/Berlin or America/New_York, got "Mars/Olympus"',
  scheduled_at_in_past: 'scheduled_at is more than 5 minutes in the past',
  scheduled_at_too_far: 'scheduled_at is more than 30 days ahead',
  callback_url_credentials:
    'callback_url must not carry a user name or password (https://user:pass@host/): it is stored and shown in plain text. Verify callbacks by their signature, or put a secret in the path',
  missing_variables: 'Missing template variables: name',
  invalid_variables: 'Invalid template variables: name must be a string, number or boolean',
  message_too_long: 'Rendered message is 1650 characters long; the maximum is 1600',
  invalid_template: 'Invalid template: unclosed {{#each}}',
  invalid_csv:
    'The file has 2 problem(s), nothing was imported; line 3: to is not a valid phone number in E.164 (+14155550100)',
  too_many_rows: 'An import has at most 100,000 rows; split the file',
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
