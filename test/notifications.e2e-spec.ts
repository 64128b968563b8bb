import {
  createTemplate,
  type Harness,
  startHarness,
  waitFor,
  waitForFinal,
} from './support/harness';

describe('Notifications API (e2e)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
    await createTemplate(h, 'order_shipped', 'Hi {{name}}, order {{order}} has shipped.', {
      sender_id: 'Acme',
    });
  });

  afterAll(() => h?.close());

  const send = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    h.api('POST', '/v1/notifications', { body, headers });

  it('accepts, stores and delivers one message per distinct recipient', async () => {
    const res = await send({
      template: 'order_shipped',
      to: ['+14155550100', '+14155550101', '+14155550100'],
      variables: { name: 'Ada', order: 42 },
      reference: 'order-42',
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      status: 'accepted',
      template: 'order_shipped',
      template_version: 1,
      scheduled_at: null,
    });
    expect(res.body.messages.map((m: { to: string }) => m.to)).toEqual([
      '+14155550100',
      '+14155550101',
    ]);
    // Committed before the 202: the rows are there the moment the answer is.
    const [row] = await h.sql(
      'SELECT count(*)::int AS n FROM messages WHERE notification_id = $1',
      [res.body.id],
    );
    expect(row.n).toBe(2);

    const final = await waitForFinal(h, res.body.id);
    for (const m of final.messages) {
      expect(m.status).toBe('delivered');
      expect(m.provider_message_id).toMatch(/^msg_/);
      expect(m.attempts).toBe(1);
      expect(m.sent_at).not.toBeNull();
      expect(m.delivered_at).not.toBeNull();
      expect(m.events.map((e: { type: string }) => e.type)).toEqual([
        'accepted',
        'queued',
        'sent',
        'delivered',
      ]);
    }
    const sandboxMessages = await h.sandboxAdmin('GET', '/messages');
    const ours = (
      Array.isArray(sandboxMessages) ? sandboxMessages : sandboxMessages.messages
    ).filter((m: { message: string }) => m.message === 'Hi Ada, order 42 has shipped.');
    expect(ours).toHaveLength(2);
    expect(ours[0].from).toBe('Acme');
  });

  it('refuses bad input with a clear 4xx envelope and stores nothing', async () => {
    const [before] = await h.sql('SELECT count(*)::int AS n FROM notifications');
    const cases: [Record<string, unknown>, number, string][] = [
      [
        {
          template: 'order_shipped',
          to: ['+14155550100', '12345', 'abc'],
          variables: { name: 'A', order: 1 },
        },
        422,
        'invalid_phone_number',
      ],
      [
        { template: 'order_shipped', to: '+14155550100', variables: { name: 'A' } },
        422,
        'missing_variables',
      ],
      [{ template: 'nope', to: '+14155550100' }, 404, 'template_not_found'],
      [
        {
          template: 'order_shipped',
          to: '+14155550100',
          variables: { name: 'x'.repeat(1600), order: 1 },
        },
        422,
        'message_too_long',
      ],
      [{ template: 'order_shipped', to: [], variables: {} }, 400, 'validation_failed'],
      [{ template: 'order_shipped', to: '+14155550100', surprise: true }, 400, 'validation_failed'],
      [
        { template: 'order_shipped', to: '+14155550100', priority: 'urgent' },
        400,
        'validation_failed',
      ],
      [
        { template: 'order_shipped', to: '+14155550100', scheduled_at: '2026-12-01 09:00' },
        400,
        'validation_failed',
      ],
      [
        {
          template: 'order_shipped',
          to: '+14155550100',
          variables: { name: 'A', order: 1 },
          expires_at: '2001-01-01T00:00:00Z',
        },
        422,
        'invalid_expiry',
      ],
      [
        { template: 'order_shipped', to: '+14155550100', callback_url: 'ftp://x' },
        400,
        'validation_failed',
      ],
    ];
    for (const [body, status, code] of cases) {
      const res = await send(body);
      expect({ body, status: res.status, code: res.body?.error?.code }).toEqual({
        body,
        status,
        code,
      });
      expect(res.body.success).toBe(false);
      expect(typeof res.body.error.message).toBe('string');
    }
    const invalid = await send({
      template: 'order_shipped',
      to: ['+14155550100', '12345'],
      variables: { name: 'A', order: 1 },
    });
    expect(invalid.body.error.details.invalid).toEqual(['12345']);
    const missing = await send({ template: 'order_shipped', to: '+14155550100', variables: {} });
    expect(missing.body.error.details.missing.sort()).toEqual(['name', 'order']);

    const tooMany = await send({
      template: 'order_shipped',
      to: Array.from({ length: 1001 }, (_, i) => `+1415555${String(1000 + i).padStart(4, '0')}`),
      variables: { name: 'A', order: 1 },
    });
    expect(tooMany.status).toBe(422);
    expect(tooMany.body.error.code).toBe('too_many_recipients');

    const badJson = await h.api('POST', '/v1/notifications', { rawBody: '{"template": ' });
    expect(badJson.status).toBe(400);
    expect(badJson.body.success).toBe(false);

    const [after] = await h.sql('SELECT count(*)::int AS n FROM notifications');
    expect(after.n).toBe(before.n);
  });

  it('needs a key with the right scope and hides other teams’ notifications', async () => {
    expect((await h.api('POST', '/v1/notifications', { body: {}, key: null })).status).toBe(401);
    expect((await h.api('POST', '/v1/notifications', { body: {}, key: 'wrong' })).status).toBe(401);
    const reader = await h.api('POST', '/v1/api-keys', {
      body: { name: 'r', team: 'ops', scopes: ['notifications:read'] },
    });
    expect(reader.status).toBe(201);
    const forbidden = await h.api('POST', '/v1/notifications', {
      key: reader.body.key,
      body: { template: 'order_shipped', to: '+14155550100', variables: { name: 'A', order: 1 } },
    });
    expect(forbidden.status).toBe(403);

    const adminSent = await send({
      template: 'order_shipped',
      to: '+14155550102',
      variables: { name: 'A', order: 1 },
    });
    const hidden = await h.api('GET', `/v1/notifications/${adminSent.body.id}`, {
      key: reader.body.key,
    });
    expect(hidden.status).toBe(404);
    expect(hidden.body.error.code).toBe('notification_not_found');
  });

  it('renders at acceptance: a later template edit does not change accepted messages', async () => {
    await createTemplate(h, 'edit_me', 'Version one for {{name}}');
    const first = await send({
      template: 'edit_me',
      to: '+14155550103',
      variables: { name: 'Bo' },
      scheduled_at: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(first.status).toBe(202);
    const put = await h.api('PUT', '/v1/templates/edit_me', {
      body: { body: 'Version two for {{name}}' },
    });
    expect(put.status).toBe(200);
    const second = await send({
      template: 'edit_me',
      to: '+14155550103',
      variables: { name: 'Bo' },
    });
    expect(second.body.template_version).toBe(2);
    const rows = await h.sql(
      'SELECT n.template_version, m.body FROM messages m JOIN notifications n ON n.id = m.notification_id WHERE n.template_key = $1 ORDER BY n.created_at',
      ['edit_me'],
    );
    expect(rows).toEqual([
      { template_version: 1, body: 'Version one for Bo' },
      { template_version: 2, body: 'Version two for Bo' },
    ]);
    await h.api('POST', `/v1/notifications/${first.body.id}/cancel`);
  });

  it('fails a message the provider rejects at once, with the provider code', async () => {
    const res = await send({
      template: 'order_shipped',
      to: ['+14155550400', '+14155550666'],
      variables: { name: 'A', order: 1 },
    });
    const final = await waitForFinal(h, res.body.id);
    const byTo = Object.fromEntries(final.messages.map((m: { to: string }) => [m.to, m]));
    expect(byTo['+14155550400']).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'invalid_phone_number' },
    });
    expect(byTo['+14155550666'].status).toBe('failed');
    expect(byTo['+14155550666'].error.code).toBeTruthy();
  });

  it('serves health, metrics and the OpenAPI document', async () => {
    const health = await h.api('GET', '/health', { key: null });
    expect(health.status).toBe(200);
    expect(health.body.info).toMatchObject({ database: { status: 'up' }, redis: { status: 'up' } });
    // One provider call, through the shared throttle.
    expect((await h.api('GET', '/v1/account')).status).toBe(200);
    const metrics = await h.api('GET', '/metrics', { key: null });
    expect(metrics.text).toContain('notify_messages_accepted_total');
    expect(metrics.text).toMatch(/notify_throttle_total\{event="acquired"\} [1-9]/);
    const docs = await h.api('GET', '/docs/json', { key: null });
    expect(docs.status).toBe(200);
    expect(Object.keys(docs.body.paths)).toContain('/v1/notifications');
  });

  it('waits for a condition helper sanity', async () => {
    await expect(waitFor(() => false, { timeoutMs: 100 })).rejects.toThrow('Timed out');
  });
});
