import {
  createTemplate,
  type Harness,
  startHarness,
  waitFor,
  waitForFinal,
} from './support/harness';

/**
 * Finding messages and sending failed ones again, over the whole stack: the worker sends to the
 * sandbox, which delivers ordinary numbers and fails …0666 on purpose.
 */
describe('Messages: search and resend (e2e)', () => {
  let h: Harness;
  let alphaKey: string;
  let betaKey: string;
  let notificationId: string;
  let delivered: { id: string; provider_message_id: string };
  let undeliverable: { id: string };

  const search = (query: string, key?: string) =>
    h.api('GET', `/v1/messages?${query}`, { key: key ?? alphaKey });

  async function createKey(team: string): Promise<string> {
    const res = await h.api('POST', '/v1/api-keys', {
      body: { name: `${team}-ops`, team, scopes: ['notifications:send', 'notifications:read'] },
    });
    expect(res.status).toBe(201);
    return res.body.key;
  }

  beforeAll(async () => {
    h = await startHarness();
    await createTemplate(h, 'resend_me', 'Your code is {{code}}');
    alphaKey = await createKey('alpha');
    betaKey = await createKey('beta');
    const res = await h.api('POST', '/v1/notifications', {
      key: alphaKey,
      body: {
        template: 'resend_me',
        to: ['+14155550101', '+14155550666'],
        variables: { code: '4321' },
        reference: 'order-77',
      },
    });
    expect(res.status).toBe(202);
    notificationId = res.body.id;
    const final = await waitForFinal(h, notificationId);
    const byTo = Object.fromEntries(final.messages.map((m: { to: string }) => [m.to, m]));
    delivered = byTo['+14155550101'];
    undeliverable = byTo['+14155550666'];
    expect([byTo['+14155550101'].status, byTo['+14155550666'].status]).toEqual([
      'delivered',
      'failed',
    ]);
  });

  afterAll(() => h?.close());

  describe('search', () => {
    it('finds a message by its exact number and masks the number in the answer', async () => {
      const res = await search('to=%2B14155550666');
      expect(res.status).toBe(200);
      expect(res.body.next_cursor).toBeNull();
      expect(res.body.data).toHaveLength(1);
      expect(res.body.data[0]).toMatchObject({
        id: undeliverable.id,
        notification_id: notificationId,
        team: 'alpha',
        template: 'resend_me',
        reference: 'order-77',
        to: '+14*****0666',
        status: 'failed',
        resend_of: null,
        resent_as: null,
      });
      expect(res.text).not.toContain('4155550666');
      expect((await search('to=%2B14155550667')).body.data).toEqual([]);
    });

    it('finds by provider message id, status with template, and reference', async () => {
      // Both recipients went in one provider request: its id names them both.
      const byProvider = await search(`provider_message_id=${delivered.provider_message_id}`);
      expect(byProvider.body.data.map((m: { id: string }) => m.id).sort()).toEqual(
        [delivered.id, undeliverable.id].sort(),
      );
      const failed = await search('status=failed&template=resend_me');
      expect(failed.body.data.map((m: { id: string }) => m.id)).toEqual([undeliverable.id]);
      const byReference = await search('reference=order-77');
      expect(byReference.body.data.map((m: { id: string }) => m.id).sort()).toEqual(
        [delivered.id, undeliverable.id].sort(),
      );
    });

    it('finds by category, frozen on each message', async () => {
      // Set on the row directly: the filter is what is tested, not how a template sets it.
      await h.sql(`UPDATE messages SET category = 'marketing' WHERE id = $1`, [undeliverable.id]);
      try {
        const ids = async (query: string) =>
          (await search(`notification_id=${notificationId}&${query}`)).body.data.map(
            (m: { id: string }) => m.id,
          );
        expect(await ids('category=marketing')).toEqual([undeliverable.id]);
        expect(await ids('category=transactional')).toEqual([delivered.id]);
        expect(await ids('category=otp')).toEqual([]);
        expect(await ids('category=marketing&status=delivered')).toEqual([]);
      } finally {
        await h.sql(`UPDATE messages SET category = 'transactional' WHERE id = $1`, [
          undeliverable.id,
        ]);
      }
    });

    it('pages newest first by cursor, each message once', async () => {
      const first = await search('notification_id=' + notificationId + '&limit=1');
      expect(first.body.data).toHaveLength(1);
      expect(first.body.next_cursor).toEqual(expect.any(String));
      const second = await search(
        `notification_id=${notificationId}&limit=1&cursor=${first.body.next_cursor}`,
      );
      expect(second.body.data).toHaveLength(1);
      expect(second.body.next_cursor).toBeNull();
      expect([first.body.data[0].id, second.body.data[0].id].sort()).toEqual(
        [delivered.id, undeliverable.id].sort(),
      );
    });

    it('shows a team only its own messages', async () => {
      expect((await search('to=%2B14155550666', betaKey)).body.data).toEqual([]);
      expect(
        (await h.api('GET', `/v1/messages/${undeliverable.id}`, { key: betaKey })).status,
      ).toBe(404);
      // The admin key sees every team.
      expect((await h.api('GET', '/v1/messages?to=%2B14155550666')).body.data).toHaveLength(1);
    });

    it.each([
      ['to=4155550666', 400],
      ['to=%2B1%20415%20555%200666', 400],
      ['status=lost', 400],
      ['category=promo', 400],
      ['since=yesterday', 400],
      ['colour=blue', 400],
      ['limit=0', 422],
      ['cursor=bm9wZQ', 422],
    ])('refuses %s with %i and the error envelope', async (query, status) => {
      const res = await search(query);
      expect(res.status).toBe(status);
      expect(res.body.success).toBe(false);
    });

    it("answers one message with its timeline, each event's source and time", async () => {
      const res = await h.api('GET', `/v1/messages/${delivered.id}`, { key: alphaKey });
      expect(res.status).toBe(200);
      expect(res.body.to).toBe('+14*****0101');
      const types = res.body.events.map((e: { type: string }) => e.type);
      expect(types[0]).toBe('accepted');
      expect(types).toContain('delivered');
      for (const event of res.body.events) {
        expect(event.source).toEqual(expect.any(String));
        expect(Number.isNaN(Date.parse(event.occurred_at))).toBe(false);
      }
    });
  });

  describe('resend', () => {
    let failedId: string;

    beforeAll(async () => {
      // A message that failed for a reason that has passed (a provider outage, say): resending it
      // can succeed, unlike the sandbox's always-undeliverable number.
      const [row] = await h.sql<{ id: string }>(
        `INSERT INTO messages (notification_id, recipient, body, characters, encoding, segments,
           status, priority, attempts, error_code, error_message, completed_at, next_attempt_at)
         VALUES ($1, '+14155550102', 'Your code is 4321', 17, 'GSM-7', 1, 'failed', 2, 6,
           'provider_error', 'upstream 503 for +14155550102', now(), NULL)
         RETURNING id`,
        [notificationId],
      );
      failedId = row.id;
    });

    it('sends a failed message again as a new message that gets delivered', async () => {
      const res = await h.api('POST', `/v1/messages/${failedId}/resend`, { key: alphaKey });
      expect(res.status).toBe(201);
      expect(res.body.created).toBe(true);
      expect(res.body.message).toMatchObject({ resend_of: failedId, to: '+14*****0102' });
      const newId = res.body.message.id as string;
      expect(newId).not.toBe(failedId);

      const final = await waitFor(
        async () => {
          const m = await h.api('GET', `/v1/messages/${newId}`, { key: alphaKey });
          return m.body.status === 'delivered' ? m.body : null;
        },
        { what: 'the resent message delivered' },
      );
      expect(final.events[0]).toMatchObject({ type: 'accepted', details: { resend_of: failedId } });

      const old = await h.api('GET', `/v1/messages/${failedId}`, { key: alphaKey });
      expect(old.body).toMatchObject({ status: 'failed', resent_as: newId });
      expect(old.body.error.message).toBe('upstream 503 for +14*****0102');
      expect(old.body.events.at(-1)).toMatchObject({
        type: 'resent',
        details: { resent_as: newId },
      });

      // Asking again (a double click, a retried request) answers the same resend.
      const again = await h.api('POST', `/v1/messages/${failedId}/resend`, { key: alphaKey });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ created: false, message: { id: newId } });
      const [{ n }] = await h.sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM messages WHERE resend_of = $1`,
        [failedId],
      );
      expect(n).toBe(1);
    });

    it('refuses to resend a delivered message (409) or another team’s (404)', async () => {
      const ok = await h.api('POST', `/v1/messages/${delivered.id}/resend`, { key: alphaKey });
      expect(ok.status).toBe(409);
      expect(ok.body.error.code).toBe('not_resendable');
      const other = await h.api('POST', `/v1/messages/${undeliverable.id}/resend`, {
        key: betaKey,
      });
      expect(other.status).toBe(404);
    });

    it('resends by filter: a dry run counts, the real call sends each once', async () => {
      const filter = { template: 'resend_me', status: 'failed' };
      const dry = await h.api('POST', '/v1/messages/resend', {
        key: alphaKey,
        body: { ...filter, dry_run: true },
      });
      expect(dry.status).toBe(200);
      // Only …0666 is left: the inserted failure was resent above.
      expect(dry.body).toEqual({ matched: 1, resent: 0, remaining: 1, dry_run: true });
      expect(
        (await h.api('POST', '/v1/messages/resend', { key: betaKey, body: filter })).body,
      ).toEqual({ matched: 0, resent: 0, remaining: 0, dry_run: false });

      const real = await h.api('POST', '/v1/messages/resend', { key: alphaKey, body: filter });
      expect(real.body).toEqual({ matched: 1, resent: 1, remaining: 0, dry_run: false });
      const repeat = await h.api('POST', '/v1/messages/resend', { key: alphaKey, body: filter });
      expect(repeat.body).toEqual({ matched: 0, resent: 0, remaining: 0, dry_run: false });
      const resent = await search('to=%2B14155550666');
      expect(resent.body.data.map((m: { resend_of: string | null }) => m.resend_of)).toEqual([
        undeliverable.id,
        null,
      ]);
    });

    it('refuses a bulk resend of messages that did not fail', async () => {
      const res = await h.api('POST', '/v1/messages/resend', {
        key: alphaKey,
        body: { status: 'delivered' },
      });
      expect([res.status, res.body.error.code]).toEqual([422, 'not_resendable']);
    });
  });

  it('documents the routes in OpenAPI', async () => {
    const docs = await h.api('GET', '/docs/json', { key: null });
    expect(Object.keys(docs.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/messages',
        '/v1/messages/{id}',
        '/v1/messages/{id}/resend',
        '/v1/messages/resend',
      ]),
    );
    const params = docs.body.paths['/v1/messages'].get.parameters.map(
      (p: { name: string }) => p.name,
    );
    expect(params).toEqual(
      expect.arrayContaining([
        'to',
        'provider_message_id',
        'status',
        'error_code',
        'template',
        'since',
        'until',
        'cursor',
      ]),
    );
  });
});
