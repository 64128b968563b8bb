import {
  parsePollAnswer,
  parseProviderUpdate,
  toMessageStatus,
  toParkedPayload,
} from './provider-status';

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

describe(toParkedPayload.name, () => {
  it.each([
    {
      event: 'message.failed',
      message_id: 'msg_f',
      status: 'failed',
      timestamp: 1700000000,
      error: { code: `Carrier ${'X'.repeat(10_000)}`, message: 'm'.repeat(20_000) },
      padding: 'p'.repeat(50_000),
    },
    {
      message_id: 'msg_d',
      status: 'Delivered',
      sent_at: '2026-12-01T15:23:45Z',
      delivered_at: '2026-12-01T15:23:48Z',
    },
    { message_id: 'msg_e', event: 'message.expired', timestamp: 1 },
    { message_id: 'msg_s', status: 'sent', error: { code: 'odd', message: null } },
  ])('keeps only bounded parsed fields, read back as the same update (%#)', (payload) => {
    const update = parseProviderUpdate(payload)!;
    const parked = toParkedPayload(update);
    expect(Object.keys(parked).sort()).toEqual(
      ['delivered_at', 'error', 'message_id', 'sent_at', 'status', 'timestamp', 'to'].sort(),
    );
    expect(JSON.stringify(parked).length).toBeLessThan(1024);
    expect(parseProviderUpdate(JSON.parse(JSON.stringify(parked)))).toEqual(update);
  });

  it('bounds a huge error code and message before anything stores them', () => {
    const update = parseProviderUpdate({
      message_id: 'm',
      status: 'failed',
      error: { code: 'Z'.repeat(10_000), message: 'y'.repeat(10_000) },
    });
    expect(update?.errorCode).toBe('z'.repeat(64));
    expect(update?.errorMessage).toHaveLength(500);
  });
});

describe(parsePollAnswer.name, () => {
  it("reads a batch's answer as one update per recipient, under the request's id", () => {
    const updates = parsePollAnswer({
      message_id: 'msg_1',
      status: 'sent',
      recipients: [
        { to: '+14155550101', status: 'delivered', delivered_at: '2026-12-07T10:00:03Z' },
        {
          to: '+14155550102',
          status: 'failed',
          error: { code: 'carrier_rejected', message: 'no' },
        },
        { to: '+14155550103', status: 'sent' },
        // Unreadable entries are skipped, not guessed at.
        { status: 'delivered' },
        'not an entry',
      ],
    });
    expect(updates.map((u) => [u.providerMessageId, u.recipient, u.status, u.errorCode])).toEqual([
      ['msg_1', '+14155550101', 'delivered', null],
      ['msg_1', '+14155550102', 'failed', 'carrier_rejected'],
      ['msg_1', '+14155550103', 'sent', null],
    ]);
  });

  it('reads an answer without recipients as the one recipient it names', () => {
    expect(
      parsePollAnswer({ message_id: 'msg_2', to: '+14155550104', status: 'delivered' }).map((u) => [
        u.recipient,
        u.status,
      ]),
    ).toEqual([['+14155550104', 'delivered']]);
    expect(parsePollAnswer({ status: 'delivered' })).toEqual([]);
    expect(parsePollAnswer([])).toEqual([]);
  });
});
