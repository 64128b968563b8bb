import { type ApiResponse, createTemplate, type Harness, startHarness } from './support/harness';

/**
 * GET /v1/notifications over real data: 13 notifications of team alpha and 3 of team beta made
 * through the API, plus 12 of alpha written by SQL with one identical created_at, so that page
 * boundaries fall inside a run of equal timestamps and only the id keeps the order.
 * APP_ROLE=api: nothing sends, so every status is the one this file sets.
 */

/** The identical created_at of the SQL rows; older than anything the API creates. */
const TIE = '2025-06-01T12:00:00.123Z';
const AFTER_TIE = '2025-06-01T12:00:00.124Z';

interface Summary {
  id: string;
  team: string;
  template: string;
  reference: string | null;
  created_at: string;
  status_counts: Record<string, number>;
}

interface Page {
  data: Summary[];
  next_cursor: string | null;
}

describe('GET /v1/notifications (e2e)', () => {
  let h: Harness;
  let alphaKey: string;
  let betaKey: string;
  const alphaApi: string[] = [];
  const betaApi: string[] = [];
  let tied: string[] = [];

  const list = (query: string, key?: string): Promise<ApiResponse<Page>> =>
    h.api('GET', `/v1/notifications?${query}`, { key });

  /** Follows next_cursor to the end; returns the page sizes and every id in order. */
  async function collect(query: string, key?: string): Promise<{ sizes: number[]; ids: string[] }> {
    const sizes: number[] = [];
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const suffix: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const res = await list(`${query}${suffix}`, key);
      expect(res.status).toBe(200);
      sizes.push(res.body.data.length);
      ids.push(...res.body.data.map((n) => n.id));
      cursor = res.body.next_cursor;
      expect(sizes.length).toBeLessThan(50);
    } while (cursor !== null);
    return { sizes, ids };
  }

  /** The order the API promises, straight from the database. */
  async function expectedIds(where: string, params: unknown[] = []): Promise<string[]> {
    const rows = await h.sql<{ id: string }>(
      `SELECT id FROM notifications WHERE ${where} ORDER BY created_at DESC, id DESC`,
      params,
    );
    return rows.map((r) => r.id);
  }

  async function createKey(team: string): Promise<string> {
    const res = await h.api('POST', '/v1/api-keys', {
      body: { name: `${team}-caller`, team, scopes: ['notifications:send', 'notifications:read'] },
    });
    expect(res.status).toBe(201);
    return res.body.key;
  }

  async function send(key: string, template: string, i: number, reference: string) {
    const res = await h.api('POST', '/v1/notifications', {
      key,
      body: {
        template,
        to: `+141555501${String(i).padStart(2, '0')}`,
        variables: { code: String(1000 + i) },
        reference,
      },
    });
    expect(res.status).toBe(202);
    return res.body.id as string;
  }

  beforeAll(async () => {
    h = await startHarness({ env: { APP_ROLE: 'api' } });
    await createTemplate(h, 'list_a', 'Your code is {{code}}');
    await createTemplate(h, 'list_b', 'Code {{code}} again');
    alphaKey = await createKey('alpha');
    betaKey = await createKey('beta');
    for (let i = 0; i < 13; i += 1) {
      alphaApi.push(await send(alphaKey, i < 10 ? 'list_a' : 'list_b', i, `order-${i}`));
    }
    for (let i = 0; i < 3; i += 1) {
      betaApi.push(await send(betaKey, 'list_a', 50 + i, `order-${i}`));
    }
    // Messages 0-3 delivered, 4-5 failed, the rest pending.
    const rows = await h.sql<{ id: string }>(
      `WITH n AS (
         INSERT INTO notifications (team, template_key, template_version, priority, recipient_count,
           reference, created_at)
         SELECT 'alpha', 'list_a', 1, 'normal', 1, 'bulk-' || i, $1::timestamptz
         FROM generate_series(0, 11) AS i
         RETURNING id, reference
       ), m AS (
         INSERT INTO messages (notification_id, recipient, body, characters, encoding, segments,
           status, priority, next_attempt_at)
         SELECT id, '+14155550199', 'Your code is 1', 14, 'GSM-7', 1,
           CASE WHEN split_part(reference, '-', 2)::int < 4 THEN 'delivered'
                WHEN split_part(reference, '-', 2)::int < 6 THEN 'failed'
                ELSE 'pending' END,
           2, '2099-01-01T00:00:00Z'
         FROM n
       )
       SELECT id FROM n`,
      [TIE],
    );
    tied = rows.map((r) => r.id);
  });

  afterAll(async () => {
    await h?.close();
  });

  describe('pagination', () => {
    it('returns every row of the team exactly once, newest first, across pages of 7', async () => {
      const expected = await expectedIds(`team = 'alpha'`);
      expect(expected).toHaveLength(25);
      const { sizes, ids } = await collect('limit=7', alphaKey);
      expect(sizes).toEqual([7, 7, 7, 4]);
      expect(ids).toEqual(expected);
      expect(new Set(ids).size).toBe(25);
      // The API-made ones are newer than the SQL rows, in creation order reversed.
      expect(ids.slice(0, 13).sort()).toEqual([...alphaApi].sort());
      expect(ids.slice(13).sort()).toEqual([...tied].sort());
    });

    it('pages through a run of identical created_at by id alone', async () => {
      const { sizes, ids } = await collect(`since=${TIE}&until=${AFTER_TIE}&limit=5`, alphaKey);
      expect(sizes).toEqual([5, 5, 2]);
      expect(ids).toEqual([...tied].sort().reverse());
    });

    it('ends with a null cursor when the last page is exactly full', async () => {
      // 28 rows for the admin key: four full pages, no empty fifth one.
      const { sizes, ids } = await collect('limit=7');
      expect(sizes).toEqual([7, 7, 7, 7]);
      expect(ids).toEqual(await expectedIds('true'));
    });

    it('defaults to 50 per page and accepts 1 and 200', async () => {
      const all = await list('', alphaKey);
      expect(all.body.data).toHaveLength(25);
      expect(all.body.next_cursor).toBeNull();
      const one = await collect('limit=1', alphaKey);
      expect(one.sizes).toEqual(Array.from({ length: 25 }, () => 1));
      const max = await list('limit=200');
      expect(max.body.data).toHaveLength(28);
    });

    it('summarises each notification with its message counts', async () => {
      const res = await list(`since=${TIE}&until=${AFTER_TIE}&status=failed`, alphaKey);
      expect(res.body.data).toHaveLength(2);
      expect(res.body.data[0]).toMatchObject({
        team: 'alpha',
        template: 'list_a',
        created_at: TIE,
        status_counts: { failed: 1 },
      });
      expect(res.body.data[0].reference).toMatch(/^bulk-[45]$/);
    });
  });

  describe('filters', () => {
    it('by template', async () => {
      const { ids } = await collect('template=list_b&limit=2', alphaKey);
      expect(ids).toEqual(await expectedIds(`team = 'alpha' AND template_key = 'list_b'`));
      expect(ids.sort()).toEqual(alphaApi.slice(10).sort());
      const a = await collect('template=list_a&limit=7', alphaKey);
      expect(a.ids).toHaveLength(22);
      expect(a.ids).toEqual(await expectedIds(`team = 'alpha' AND template_key = 'list_a'`));
    });

    it('by reference, within the caller’s team', async () => {
      const alpha = await list('reference=order-1', alphaKey);
      expect(alpha.body.data.map((n) => n.id)).toEqual([alphaApi[1]]);
      const beta = await list('reference=order-1', betaKey);
      expect(beta.body.data.map((n) => n.id)).toEqual([betaApi[1]]);
      const admin = await list('reference=order-1');
      expect(admin.body.data.map((n) => n.id).sort()).toEqual([alphaApi[1], betaApi[1]].sort());
      const none = await list('reference=no-such-ref', alphaKey);
      expect(none.body).toEqual({ data: [], next_cursor: null });
    });

    it('by message status', async () => {
      const delivered = await collect('status=delivered&limit=3', alphaKey);
      expect(delivered.ids).toEqual(
        await expectedIds(`reference IN ('bulk-0', 'bulk-1', 'bulk-2', 'bulk-3')`),
      );
      const failed = await list('status=failed', alphaKey);
      expect(failed.body.data.map((n) => n.reference).sort()).toEqual(['bulk-4', 'bulk-5']);
      const pending = await collect('status=pending&limit=7', alphaKey);
      expect(pending.ids).toHaveLength(13 + 6);
      const canceled = await list('status=canceled', alphaKey);
      expect(canceled.body.data).toEqual([]);
    });

    it('by created_at window, half-open', async () => {
      const since = await collect(`since=${TIE}&limit=7`, alphaKey);
      expect(since.ids).toHaveLength(25);
      const until = await list(`until=${TIE}`, alphaKey);
      expect(until.body.data).toEqual([]);
      const exact = await collect(`since=${TIE}&until=${AFTER_TIE}&limit=7`, alphaKey);
      expect(exact.ids.sort()).toEqual([...tied].sort());
      const afterTie = await collect(`since=${AFTER_TIE}&limit=7`, alphaKey);
      expect(afterTie.ids.sort()).toEqual([...alphaApi].sort());
    });

    it('combines filters and keeps them across pages', async () => {
      const { sizes, ids } = await collect(
        `template=list_a&status=pending&since=${TIE}&until=${AFTER_TIE}&limit=4`,
        alphaKey,
      );
      expect(sizes).toEqual([4, 2]);
      expect(ids).toEqual(
        await expectedIds(
          `reference IN ('bulk-6', 'bulk-7', 'bulk-8', 'bulk-9', 'bulk-10', 'bulk-11')`,
        ),
      );
    });
  });

  describe('team scoping', () => {
    it('never lists another team’s notifications', async () => {
      const beta = await collect('limit=7', betaKey);
      expect(beta.ids).toEqual(await expectedIds(`team = 'beta'`));
      expect(beta.ids.sort()).toEqual([...betaApi].sort());
      const alpha = await collect('limit=7', alphaKey);
      expect(alpha.ids.filter((id) => betaApi.includes(id))).toEqual([]);
    });

    it('answers 404 for another team’s notification, as for a missing one', async () => {
      const missing = await h.api('GET', `/v1/notifications/${betaApi[0]}`, { key: alphaKey });
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual({
        success: false,
        error: { code: 'notification_not_found', message: `No notification with id ${betaApi[0]}` },
      });
      const cancel = await h.api('POST', `/v1/notifications/${betaApi[0]}/cancel`, {
        key: alphaKey,
      });
      expect(cancel.status).toBe(404);
      const own = await h.api('GET', `/v1/notifications/${betaApi[0]}`, { key: betaKey });
      expect(own.status).toBe(200);
      const admin = await h.api('GET', `/v1/notifications/${betaApi[0]}`);
      expect(admin.status).toBe(200);
      expect(admin.body.team).toBe('beta');
    });
  });

  describe('bad input', () => {
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

    it.each([
      ['cursor=garbage', 422, 'invalid_cursor'],
      [
        `cursor=${b64(['not a date', '2b1e7c3e-4a57-4c55-9b2f-0c5b7f0a1d2e'])}`,
        422,
        'invalid_cursor',
      ],
      [`cursor=${b64(['2025-06-01T12:00:00.123Z', 'not-a-uuid'])}`, 422, 'invalid_cursor'],
      [`cursor=${b64({ at: 1 })}`, 422, 'invalid_cursor'],
      [`cursor=${b64([1])}`, 422, 'invalid_cursor'],
      [`cursor=${'x'.repeat(201)}`, 400, 'validation_failed'],
      ['limit=0', 422, 'invalid_limit'],
      ['limit=201', 422, 'invalid_limit'],
      ['limit=abc', 400, 'validation_failed'],
      ['limit=-1', 400, 'validation_failed'],
      ['limit=1.5', 400, 'validation_failed'],
      ['status=lost', 400, 'validation_failed'],
      ['since=yesterday', 400, 'validation_failed'],
      ['until=2025-06-01T12:00:00', 400, 'validation_failed'],
      ['colour=blue', 400, 'validation_failed'],
    ])('refuses %s with %i %s', async (query, status, code) => {
      const res = await h.api('GET', `/v1/notifications?${query}`, { key: alphaKey });
      expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
      expect(res.body.success).toBe(false);
      expect(typeof res.body.error.message).toBe('string');
    });

    it('needs a key', async () => {
      const res = await h.api('GET', '/v1/notifications', { key: null });
      expect(res.status).toBe(401);
    });
  });

  // Last: it adds a notification the other tests would have to count.
  describe('a notification created between pages', () => {
    it('neither shows up in later pages nor shifts or repeats the rest', async () => {
      const before = await expectedIds(`team = 'alpha'`);
      const first = await list('limit=7', alphaKey);
      expect(first.body.data.map((n) => n.id)).toEqual(before.slice(0, 7));
      const late = await send(alphaKey, 'list_a', 99, 'late');

      const ids = first.body.data.map((n) => n.id);
      let cursor = first.body.next_cursor;
      while (cursor !== null) {
        const res = await list(`limit=7&cursor=${encodeURIComponent(cursor)}`, alphaKey);
        ids.push(...res.body.data.map((n) => n.id));
        cursor = res.body.next_cursor;
      }
      expect(ids).toEqual(before);
      expect(ids).not.toContain(late);
      const fresh = await list('limit=1', alphaKey);
      expect(fresh.body.data[0].id).toBe(late);
    });
  });
});
