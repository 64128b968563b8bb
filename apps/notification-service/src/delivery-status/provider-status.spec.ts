import { parseProviderUpdate, toMessageStatus } from './provider-status';

describe(toMessageStatus.name, () => {
  it('reads the provider’s words in any case and refuses unknown ones', () => {
    expect(toMessageStatus('Delivered')).toBe('delivered');
    expect(toMessageStatus('QUEUED')).toBe('queued');
    expect(toMessageStatus('bounced')).toBeNull();
    expect(toMessageStatus(42)).toBeNull();
  });
});

describe(parseProviderUpdate.name, () => {
  it('reads a delivered webhook with its delivery time', () => {
    const update = parseProviderUpdate({
      event: 'message.delivered',
      message_id: 'msg_1',
      status: 'delivered',
      sent_at: '2026-12-01T15:23:45Z',
      delivered_at: '2026-12-01T15:23:48Z',
      timestamp: 1796138628,
    });
    expect(update).toMatchObject({
      providerMessageId: 'msg_1',
      status: 'delivered',
      errorCode: null,
    });
    expect(update?.occurredAt.toISOString()).toBe('2026-12-01T15:23:48.000Z');
    expect(update?.sentAt?.toISOString()).toBe('2026-12-01T15:23:45.000Z');
  });

  it('takes the status from the event name when the status field is missing', () => {
    expect(
      parseProviderUpdate({ event: 'message.sent', message_id: 'msg_2', timestamp: 1 })?.status,
    ).toBe('sent');
  });

  it('keeps the provider’s error of a failure, and names one when it gives none', () => {
    expect(
      parseProviderUpdate({
        message_id: 'm',
        status: 'failed',
        error: { code: 'undeliverable', message: 'no' },
      }),
    ).toMatchObject({ errorCode: 'undeliverable', errorMessage: 'no' });
    expect(parseProviderUpdate({ message_id: 'm', status: 'expired' })?.errorCode).toBe(
      'provider_expired',
    );
  });

  it('uses the webhook timestamp (unix seconds) when no status time is given', () => {
    expect(
      parseProviderUpdate({
        message_id: 'm',
        status: 'failed',
        timestamp: 1700000000,
      })?.occurredAt.toISOString(),
    ).toBe('2023-11-14T22:13:20.000Z');
  });

  it.each([
    null,
    [],
    'text',
    {},
    { message_id: 'm' },
    { status: 'sent' },
    { message_id: '', status: 'sent' },
    { message_id: 'm', status: 'weird' },
  ])('refuses %p', (body) => {
    expect(parseProviderUpdate(body)).toBeNull();
  });
});
