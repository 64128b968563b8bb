/**
 * Every operation's id and one-line summary, by `Controller.method`. Ids are what generated
 * clients call their functions (`sendNotification`), so they are chosen here, not derived from
 * class names; a route missing from the table gets `<method><Controller>` and no summary, which
 * `redocly lint` (in npm test) reports.
 */
export const OPERATIONS: Record<string, { id: string; summary: string }> = {
  'NotificationsController.send': {
    id: 'sendNotification',
    summary: 'Send an SMS notification from a template',
  },
  'NotificationsController.list': {
    id: 'listNotifications',
    summary: 'List notifications, newest first, with filters',
  },
  'NotificationsController.get': {
    id: 'getNotification',
    summary: 'One notification with its messages and their timelines',
  },
  'NotificationsController.cancel': {
    id: 'cancelNotification',
    summary: 'Cancel the messages of a notification not handed to the provider yet',
  },
  'TemplatesController.create': { id: 'createTemplate', summary: 'Create a template (version 1)' },
  'TemplatesController.update': {
    id: 'updateTemplate',
    summary: 'Change a template: a new version',
  },
  'TemplatesController.list': { id: 'listTemplates', summary: 'List templates' },
  'TemplatesController.get': { id: 'getTemplate', summary: 'A template at its current version' },
  'TemplatesController.listVersions': {
    id: 'listTemplateVersions',
    summary: "A template's versions, oldest first",
  },
  'TemplatesController.getVersion': {
    id: 'getTemplateVersion',
    summary: 'One version of a template',
  },
  'TemplatesController.archive': {
    id: 'archiveTemplate',
    summary: 'Archive a template (no new sends; history kept)',
  },
  'TemplatesController.preview': {
    id: 'previewTemplate',
    summary: 'Render a template with variables, without sending',
  },
  'MessagesController.search': {
    id: 'searchMessages',
    summary: 'Search messages by number, provider id, status, error, template, reference or time',
  },
  'MessagesController.bulkResend': {
    id: 'resendMessages',
    summary: 'Resend failed or expired messages matching a filter',
  },
  'MessagesController.get': { id: 'getMessage', summary: 'One message with its timeline' },
  'MessagesController.resend': {
    id: 'resendMessage',
    summary: 'Resend one failed or expired message as a new message',
  },
  'CallbackSecretController.rotate': {
    id: 'rotateCallbackSecret',
    summary: "Rotate the team's callback signing secret",
  },
  'CallbackSecretController.info': {
    id: 'getCallbackSecret',
    summary: "The team's callback signing secret (metadata)",
  },
  'CallbackDeliveriesController.list': {
    id: 'listCallbackDeliveries',
    summary: 'Status callbacks of a notification and their attempts',
  },
  'CallbackDeliveriesController.redeliver': {
    id: 'redeliverCallbacks',
    summary: 'Send the failed status callbacks of a notification again',
  },
  'FailedCallbacksController.list': {
    id: 'listFailedCallbacks',
    summary: 'Status callbacks that failed for good, across notifications',
  },
  'ReportsController.delivery': {
    id: 'getDeliveryReport',
    summary: 'Delivery report: totals, rates and latencies by template and day',
  },
  'OperationsController.queue': {
    id: 'getQueueState',
    summary: 'The backlog, send rate, credits and pause state',
  },
  'OperationsController.pauseQueue': {
    id: 'pauseSending',
    summary: 'Pause sending; accepted requests keep queuing',
  },
  'OperationsController.resumeQueue': {
    id: 'resumeSending',
    summary: 'Resume sending (also lifts a credits pause)',
  },
  'OperationsController.account': {
    id: 'getProviderAccount',
    summary: "The provider account's credits, plan and rate limit",
  },
  'ApiKeysController.create': { id: 'createApiKey', summary: 'Create an API key (shown once)' },
  'ApiKeysController.list': {
    id: 'listApiKeys',
    summary: 'List API keys (never the keys themselves)',
  },
  'ApiKeysController.revoke': { id: 'revokeApiKey', summary: 'Revoke an API key' },
  'AuthBlocksController.list': {
    id: 'listAuthBlocks',
    summary: 'Addresses and key prefixes refused for too many failed authentications',
  },
  'AuthBlocksController.clear': {
    id: 'clearAuthBlock',
    summary: 'End a failed-authentication block now, on every instance',
  },
  'WebhooksController.receive': {
    id: 'receiveProviderWebhook',
    summary: "Receiver of the SMS provider's signed status webhooks",
  },
  'HealthController.live': { id: 'getLiveness', summary: 'Liveness: the process answers' },
  'HealthController.ready': {
    id: 'getReadiness',
    summary: 'Readiness: PostgreSQL and Redis answer',
  },
  'MetricsController.scrape': { id: 'getMetrics', summary: 'Prometheus metrics' },
};

const SUMMARIES = new Map(Object.values(OPERATIONS).map((o) => [o.id, o.summary]));

export function operationIdFor(controllerKey: string, methodKey: string): string {
  const known = OPERATIONS[`${controllerKey}.${methodKey}`];
  if (known) return known.id;
  const noun = controllerKey.replace(/Controller$/, '');
  return `${methodKey}${noun}`;
}

export function summaryFor(operationId: string): string | undefined {
  return SUMMARIES.get(operationId);
}
