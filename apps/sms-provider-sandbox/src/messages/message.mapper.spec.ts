import type { ProviderMessageStatus } from '@app/sms-provider';
import type { SandboxMessage } from './message';
import { aggregateStatus, toMessageResponse } from './message.mapper';

const SENT_AT = Date.parse('2026-12-07T10:00:00Z');

function message(to: string, status: ProviderMessageStatus, batch: boolean): SandboxMessage {
  const final = status !== 'queued' && status !== 'sent';
  return {
    id: 'msg_1',
    batch,
    accountKey: 'sk_a',
    to,
    from: 'Acme',
    text: 'Hi',
    encoding: 'GSM-7',
    segments: 1,
    callbackUrl: null,
    outcome: 'delivered',
    createdAt: SENT_AT - 1000,
    scheduledAt: null,
    status,
    sentAt: status === 'queued' ? null : SENT_AT,
    deliveredAt: status === 'delivered' ? SENT_AT + 500 : null,
    finishedAt: final && status !== 'delivered' ? SENT_AT + 500 : null,
    error: status === 'failed' ? { code: 'undeliverable', message: 'unreachable' } : null,
  };
}

describe(aggregateStatus.name, () => {
  it.each<[ProviderMessageStatus[], ProviderMessageStatus]>([
    [['delivered', 'queued', 'failed'], 'queued'],
    [['delivered', 'sent', 'expired'], 'sent'],
    [['delivered', 'expired', 'failed'], 'failed'],
    [['delivered', 'expired'], 'expired'],
    [['delivered', 'delivered'], 'delivered'],
    [['sent'], 'sent'],
  ])('%p is %s', (statuses, expected) => {
    expect(aggregateStatus(statuses)).toBe(expected);
  });
});

describe(toMessageResponse.name, () => {
  it('answers a one-number send in the documented shape, with its recipient listed', () => {
    expect(toMessageResponse([message('+14155550100', 'delivered', false)])).toEqual({
      message_id: 'msg_1',
      to: '+14155550100',
      from: 'Acme',
      message: 'Hi',
      status: 'delivered',
      sent_at: '2026-12-07T10:00:00.000Z',
      delivered_at: '2026-12-07T10:00:00.500Z',
      error: null,
      recipients: [
        {
          to: '+14155550100',
          status: 'delivered',
          sent_at: '2026-12-07T10:00:00.000Z',
          delivered_at: '2026-12-07T10:00:00.500Z',
          error: null,
        },
      ],
      scheduled_at: null,
    });
  });

  it('answers a batch without a top-level recipient, as far as its least advanced one', () => {
    const response = toMessageResponse([
      message('+14155550100', 'delivered', true),
      message('+14155550666', 'failed', true),
      message('+14155550123', 'sent', true),
    ]);
    expect(response).toEqual({
      message_id: 'msg_1',
      from: 'Acme',
      message: 'Hi',
      status: 'sent',
      scheduled_at: null,
      recipients: [
        expect.objectContaining({ to: '+14155550100', status: 'delivered' }),
        expect.objectContaining({
          to: '+14155550666',
          status: 'failed',
          delivered_at: null,
          error: { code: 'undeliverable', message: 'unreachable' },
        }),
        expect.objectContaining({ to: '+14155550123', status: 'sent', delivered_at: null }),
      ],
    });
    expect(response).not.toHaveProperty('to');
  });

  it('keeps the batch form for an array of one number', () => {
    const response = toMessageResponse([message('+14155550100', 'queued', true)]);
    expect(response).not.toHaveProperty('to');
    expect(response.recipients).toEqual([
      { to: '+14155550100', status: 'queued', sent_at: null, delivered_at: null, error: null },
    ]);
  });
});
