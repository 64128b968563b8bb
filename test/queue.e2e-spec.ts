import {
  createTemplate,
  type Harness,
  startHarness,
  waitFor,
  waitForFinal,
} from './support/harness';

/** GET /v1/queue from the database, and a pause that says why, by whom and since when. */
describe('Queue state and pause (e2e)', () => {
  let h: Harness;
  let opsKeyId: string;
  let opsKey: string;

  const send = (to: string, extra: Record<string, unknown> = {}) =>
    h.api('POST', '/v1/notifications', {
      body: { template: 'queue_note', to, variables: { n: 1 }, ...extra },
    });

  beforeAll(async () => {
    h = await startHarness();
    await createTemplate(h, 'queue_note', 'Note {{n}}');
    const key = await h.api('POST', '/v1/api-keys', {
      body: { name: 'ops-lead', team: 'platform', scopes: ['admin'] },
    });
    expect(key.status).toBe(201);
    opsKey = key.body.key;
    opsKeyId = key.body.id;
  });

  afterAll(async () => {
    await h?.api('POST', '/v1/queue/resume');
    await h?.close();
  });

  it('starts empty: nothing waiting, not paused, the plan limit, no credits seen yet', async () => {
    const res = await h.api('GET', '/v1/queue');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      paused: false,
      reason: null,
      note: null,
      paused_by: null,
      since: null,
      backlog: {
        scheduled: 0,
        scheduled_due_soon: 0,
        pending: 0,
        pending_due: 0,
        claimed: 0,
        at_provider: 0,
        oldest_pending_seconds: null,
      },
      send_rate: { per_second: 0, per_second_last_minute: 0, plan_limit_per_second: 10 },
      credits: { remaining: null, as_of: null },
    });
    expect(res.body.jobs).toEqual(expect.any(Object));
  });

  it('shows the send rate and the credits the provider reported after sending', async () => {
    const res = await send('+14155550301');
    await waitForFinal(h, res.body.id);
    const state = await h.api('GET', '/v1/queue');
    expect(state.body.send_rate.per_second).toBeGreaterThan(0);
    expect(state.body.send_rate.per_second_last_minute).toBeGreaterThan(0);
    const [{ credits }] = await h.sql<{ credits: number }>(
      `SELECT credits_remaining AS credits FROM messages WHERE queued_at IS NOT NULL
       ORDER BY queued_at DESC LIMIT 1`,
    );
    expect(state.body.credits.remaining).toBe(credits);
    expect(Number.isNaN(Date.parse(state.body.credits.as_of))).toBe(false);
  });

  it('pauses with a reason, who and since; counts the backlog by state; resumes', async () => {
    const before = Date.now();
    const paused = await h.api('POST', '/v1/queue/pause', {
      key: opsKey,
      body: { reason: 'Provider incident INC-42' },
    });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({
      paused: true,
      reason: 'manual',
      note: 'Provider incident INC-42',
      paused_by: opsKeyId,
    });
    expect(Date.parse(paused.body.since)).toBeGreaterThanOrEqual(before - 1000);

    const now = await send('+14155550302');
    const soon = await send('+14155550303', {
      scheduled_at: new Date(Date.now() + 30_000).toISOString(),
    });
    const later = await send('+14155550304', {
      scheduled_at: new Date(Date.now() + 2 * 3600_000).toISOString(),
    });
    const state = await waitFor(
      async () => {
        const r = await h.api('GET', '/v1/queue');
        return r.body.backlog.oldest_pending_seconds > 0 ? r.body : null;
      },
      { what: 'a pending message waiting' },
    );
    expect(state).toMatchObject({
      paused: true,
      note: 'Provider incident INC-42',
      paused_by: opsKeyId,
      backlog: {
        scheduled: 2,
        scheduled_due_soon: 1,
        pending: 1,
        pending_due: 1,
        claimed: 0,
        at_provider: 0,
      },
    });

    const resumed = await h.api('POST', '/v1/queue/resume', { key: opsKey });
    expect(resumed.body).toMatchObject({
      paused: false,
      reason: null,
      note: null,
      paused_by: null,
    });
    await waitForFinal(h, now.body.id);
    expect((await h.api('GET', '/v1/queue')).body.backlog).toMatchObject({
      pending: 0,
      oldest_pending_seconds: null,
    });
    for (const res of [soon, later]) {
      expect((await h.api('POST', `/v1/notifications/${res.body.id}/cancel`)).status).toBe(200);
    }
  });

  it('records the bootstrap key as admin and a pause without a reason', async () => {
    const paused = await h.api('POST', '/v1/queue/pause');
    expect(paused.body).toMatchObject({ paused: true, note: null, paused_by: 'admin' });
    await h.api('POST', '/v1/queue/resume');
  });

  it.each([
    [{ reason: '' }, 400],
    [{ reason: 'x'.repeat(201) }, 400],
    [{ reason: 42 }, 400],
    [{ why: 'x' }, 400],
  ])('refuses the pause body %j with %i', async (body, status) => {
    const res = await h.api('POST', '/v1/queue/pause', { body });
    expect(res.status).toBe(status);
    expect(res.body.success).toBe(false);
    expect((await h.api('GET', '/v1/queue')).body.paused).toBe(false);
  });

  it('is for admin keys only', async () => {
    const key = await h.api('POST', '/v1/api-keys', {
      body: { name: 'caller', team: 'alpha', scopes: ['notifications:send'] },
    });
    for (const [method, path] of [
      ['GET', '/v1/queue'],
      ['POST', '/v1/queue/pause'],
    ]) {
      expect((await h.api(method, path, { key: key.body.key })).status).toBe(403);
    }
  });

  it('documents the queue state in OpenAPI', async () => {
    const docs = await h.api('GET', '/docs/json', { key: null });
    const schemas = docs.body.components.schemas;
    expect(Object.keys(schemas.QueueStateView.properties)).toEqual(
      expect.arrayContaining(['backlog', 'send_rate', 'credits', 'paused', 'note', 'paused_by']),
    );
    expect(docs.body.paths['/v1/queue/pause'].post.requestBody).toBeDefined();
  });
});
