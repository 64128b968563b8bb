import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type ApiResponse, type Harness, startHarness } from './support/harness';

/**
 * Every read is bounded before its work (issue 17, class 1). The attack: a team key with
 * reports:read asked for templates × hours over 30 days across a few hundred templates; the
 * zero-filled answer was hundreds of thousands of rows, the event loop stopped for seconds and the
 * process ran out of heap. Messages are written straight into the database (many of them, cheaply,
 * with generate_series); the service runs as APP_ROLE=api, so nothing moves them on.
 */

const HOUR_MS = 3_600_000;
const MAX_REPORT_ROWS = 10_000;

/** The attack's shape: 300 templates with a message every day of June 2025. */
const BULK_TEMPLATES = 300;
const JUNE = 'since=2025-06-01T00:00:00Z&until=2025-07-01T00:00:00Z';

/** The largest allowed report: 25 templates × 400 hours = exactly 10,000 rows. */
const EDGE_TEMPLATES = 25;
const EDGE_SINCE = Date.parse('2025-08-01T00:00:00Z');
const edgeWindow = (hours: number): string =>
  `since=${new Date(EDGE_SINCE).toISOString()}&until=${new Date(EDGE_SINCE + hours * HOUR_MS).toISOString()}`;

/** More templates than rows allowed, one message each: a report by template alone is too large. */
const WIDE_TEMPLATES = MAX_REPORT_ROWS + 1;

describe('Bounded reads (e2e)', () => {
  let h: Harness;
  let bulkKey: string;
  let edgeKey: string;

  async function createKey(team: string, scopes: string[]): Promise<string> {
    const res = await h.api('POST', '/v1/api-keys', {
      body: { name: `${team}-key`, team, scopes },
    });
    expect(res.status).toBe(201);
    return res.body.key;
  }

  /**
   * One notification per template of `team` and, for each, a delivered message every `stepMs`
   * from `first` on, `count` of them.
   */
  async function seedMessages(
    team: string,
    prefix: string,
    templates: number,
    first: string,
    stepMs: number,
    count: number,
  ): Promise<void> {
    await h.sql(
      `WITH n AS (
         INSERT INTO notifications (team, template_key, template_version, priority, recipient_count)
         SELECT $1, $2 || lpad(i::text, 5, '0'), 1, 'normal', 1 FROM generate_series(1, $3) i
         RETURNING id
       )
       INSERT INTO messages (notification_id, recipient, body, characters, encoding, segments,
         status, priority, submitted_at, delivered_at, provider_message_id, next_attempt_at)
       SELECT n.id, '+14155550100', 'bounded', 7, 'GSM-7', 1, 'delivered', 2, at,
         at + interval '2 seconds', 'msg_bounded_' || gen_random_uuid(), '2099-01-01T00:00:00Z'
       FROM n, generate_series(0, $6 - 1) k,
         LATERAL (SELECT $4::timestamptz + k * $5::float8 * interval '1 millisecond' AS at) t`,
      [team, prefix, templates, first, stepMs, count],
    );
  }

  beforeAll(async () => {
    h = await startHarness({ env: { APP_ROLE: 'api' } });
    await seedMessages('bulk', 'tpl_', BULK_TEMPLATES, '2025-06-01T00:30:00Z', 24 * HOUR_MS, 30);
    await seedMessages('edge', 'edge_', EDGE_TEMPLATES, '2025-08-01T00:10:00Z', 24 * HOUR_MS, 17);
    await seedMessages('wide', 'wide_', WIDE_TEMPLATES, '2025-09-01T12:00:00Z', HOUR_MS, 1);
    bulkKey = await createKey('bulk', ['reports:read']);
    edgeKey = await createKey('edge', ['reports:read']);
  });

  afterAll(async () => {
    await h?.close();
  });

  describe('delivery reports: rows = groups × buckets, refused before the aggregate', () => {
    const report = (query: string, key?: string): Promise<ApiResponse> =>
      h.api('GET', `/v1/reports/delivery?${query}`, { key });

    /**
     * Runs `work` while asking /health/live every 20 ms, and measures how late this process's
     * event loop ran (the service runs in it).
     */
    async function whileProbing<T>(
      work: () => Promise<T>,
    ): Promise<{ result: T; health: number[]; maxLoopDelayMs: number }> {
      const loop = monitorEventLoopDelay({ resolution: 10 });
      loop.enable();
      const health: number[] = [];
      let done = false;
      const probe = (async () => {
        while (!done) {
          health.push((await h.api('GET', '/health/live', { key: null })).status);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      try {
        const result = await work();
        return { result, health, maxLoopDelayMs: loop.max / 1e6 };
      } finally {
        done = true;
        await probe;
        loop.disable();
      }
    }

    it('refuses templates × hours over 30 days across 300 templates (the attack) with 422 report_too_large', async () => {
      const { result, health, maxLoopDelayMs } = await whileProbing(() =>
        report(`${JUNE}&group_by=template,hour`, bulkKey),
      );
      expect(result.status).toBe(422);
      expect(result.body).toEqual({
        success: false,
        error: {
          code: 'report_too_large',
          message:
            'This report would have 216,000 rows (300 template × 720 hours); a report has at most ' +
            '10,000. Narrow it: a shorter window (since/until): at most 33 hours with these 300 ' +
            'groups; group_by=template,day (9,000 rows); template=<key>: one template',
          details: {
            rows: 216_000,
            rows_exact: true,
            max_rows: MAX_REPORT_ROWS,
            combinations: BULK_TEMPLATES,
            buckets: 720,
            group_by: 'template,hour',
            narrow: [
              'a shorter window (since/until): at most 33 hours with these 300 groups',
              'group_by=template,day (9,000 rows)',
              'template=<key>: one template',
            ],
          },
        },
      });
      // The health check kept answering, and nothing held the event loop: before the bound the
      // zero-fill alone held it for seconds. A second is far above what a refusal costs.
      expect(health.length).toBeGreaterThan(0);
      expect(health.every((status) => status === 200)).toBe(true);
      expect(maxLoopDelayMs).toBeLessThan(1000);
    });

    it('refuses the CSV export of the same report the same way', async () => {
      const res = await report(`${JUNE}&group_by=template,hour&format=csv`, bulkKey);
      expect(res.status).toBe(422);
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(res.body.error).toMatchObject({
        code: 'report_too_large',
        details: { rows: 216_000, max_rows: MAX_REPORT_ROWS },
      });
    });

    it('answers the narrower report the refusal suggests', async () => {
      const byDay = await report(`${JUNE}&group_by=template,day`, bulkKey);
      expect(byDay.status).toBe(200);
      expect(byDay.body.rows).toHaveLength(BULK_TEMPLATES * 30);
      expect(byDay.body.totals.total).toBe(BULK_TEMPLATES * 30);

      const oneTemplate = await report(
        `${JUNE}&group_by=template,hour&template=tpl_00007`,
        bulkKey,
      );
      expect(oneTemplate.status).toBe(200);
      expect(oneTemplate.body.rows).toHaveLength(720);
      expect(oneTemplate.body.rows.filter((r: { total: number }) => r.total > 0)).toHaveLength(30);
    });

    it('answers the largest allowed report in full: 25 templates × 400 hours = 10,000 rows', async () => {
      const { result: res, health } = await whileProbing(() =>
        report(`${edgeWindow(400)}&group_by=template,hour`, edgeKey),
      );
      expect(res.status).toBe(200);
      expect(res.body.rows).toHaveLength(MAX_REPORT_ROWS);
      // 17 daily messages per template inside the window, zeros in the other 383 hours.
      expect(res.body.rows.filter((r: { total: number }) => r.total === 1)).toHaveLength(25 * 17);
      expect(res.body.rows[0]).toMatchObject({
        template: 'edge_00001',
        hour: '2025-08-01T00:00:00Z',
        total: 1,
        delivered: 1,
      });
      expect(res.body.rows.at(-1)).toMatchObject({
        template: 'edge_00025',
        hour: '2025-08-17T15:00:00Z',
        total: 0,
      });
      expect(res.body.totals).toMatchObject({ total: 25 * 17, delivered: 25 * 17 });
      expect(health.every((status) => status === 200)).toBe(true);

      const csv = await report(`${edgeWindow(400)}&group_by=template,hour&format=csv`, edgeKey);
      expect(csv.status).toBe(200);
      // A header and 10,000 lines, each ending in CRLF.
      expect(csv.text.split('\r\n')).toHaveLength(MAX_REPORT_ROWS + 2);
    });

    it('refuses the same report one hour longer: 25 × 401 = 10,025 rows', async () => {
      const res = await report(`${edgeWindow(401)}&group_by=template,hour`, edgeKey);
      expect(res.status).toBe(422);
      expect(res.body.error).toMatchObject({
        code: 'report_too_large',
        details: {
          rows: 10_025,
          rows_exact: true,
          max_rows: MAX_REPORT_ROWS,
          combinations: 25,
          buckets: 401,
          narrow: [
            'a shorter window (since/until): at most 400 hours with these 25 groups',
            'group_by=template,day (425 rows)',
            'template=<key>: one template',
          ],
        },
      });
    });

    it('bounds a report without time buckets too: more templates than rows allowed', async () => {
      const res = await report(`since=2025-09-01T00:00:00Z&until=2025-09-02T00:00:00Z&team=wide`);
      expect(res.status).toBe(422);
      expect(res.body.error).toMatchObject({
        code: 'report_too_large',
        details: {
          // The count stops one past the limit: a lower bound, said so.
          rows: MAX_REPORT_ROWS + 1,
          rows_exact: false,
          max_rows: MAX_REPORT_ROWS,
          buckets: 1,
          group_by: 'template',
          narrow: ['a shorter window (since/until)', 'template=<key>: one template'],
        },
      });
      expect(res.body.error.message).toContain('at least 10,001 rows');

      // The same messages by team and day: one row.
      const oneHour = await report(
        `since=2025-09-01T12:00:00Z&until=2025-09-01T13:00:00Z&team=wide&group_by=team,day`,
      );
      expect(oneHour.status).toBe(200);
      expect(oneHour.body.rows).toEqual([
        expect.objectContaining({ team: 'wide', day: '2025-09-01', total: WIDE_TEMPLATES }),
      ]);
    });
  });

  describe('lists and views: every one bounded before its query', () => {
    /** A notification of 1,000 recipients that failed, 500 of them resent and failed again. */
    let notificationId: string;

    beforeAll(async () => {
      const [n] = await h.sql<{ id: string }>(
        `INSERT INTO notifications (team, template_key, template_version, priority,
           recipient_count, callback_url)
         VALUES ('resent', 'otp', 1, 'normal', 1000, 'https://callbacks.example/sms') RETURNING id`,
      );
      notificationId = n.id;
      await h.sql(
        `INSERT INTO messages (notification_id, recipient, body, characters, encoding, segments,
           status, priority, submitted_at, next_attempt_at)
         SELECT $1, '+1415555' || lpad(i::text, 4, '0'), 'code 1234', 9, 'GSM-7', 1, 'failed', 2,
           '2025-10-01T00:00:00Z'::timestamptz + i * interval '1 second', '2099-01-01T00:00:00Z'
         FROM generate_series(1, 1000) i`,
        [notificationId],
      );
      await h.sql(
        `INSERT INTO messages (notification_id, recipient, body, characters, encoding, segments,
           status, priority, submitted_at, next_attempt_at, resend_of)
         SELECT notification_id, recipient, body, characters, encoding, segments, 'failed', 2,
           submitted_at + interval '1 day', next_attempt_at, id
         FROM messages WHERE notification_id = $1 ORDER BY submitted_at LIMIT 500`,
        [notificationId],
      );
      // Four status changes per message; each one makes a status callback (the table's trigger).
      await h.sql(
        `INSERT INTO message_events (message_id, type, status, source, status_change, occurred_at)
         SELECT m.id, s.status, s.status, 'worker', true, m.submitted_at + s.n * interval '1 ms'
         FROM messages m,
           unnest(ARRAY['pending', 'queued', 'sent', 'failed']) WITH ORDINALITY AS s(status, n)
         WHERE m.notification_id = $1
         ORDER BY m.submitted_at, s.n`,
        [notificationId],
      );
    });

    it('lists at most 1,000 messages of a notification, counting every one, the rest through the message search', async () => {
      const res = await h.api('GET', `/v1/notifications/${notificationId}`);
      expect(res.status).toBe(200);
      expect(res.body.status_counts).toEqual({ failed: 1500 });
      expect(res.body.messages).toHaveLength(1000);
      expect(res.body.messages[0].to).toBe('+14155550001');
      expect(res.body.messages.every((m: { events: unknown[] }) => m.events.length === 4)).toBe(
        true,
      );

      const seen = new Set<string>();
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = `notification_id=${notificationId}&limit=200${cursor ? `&cursor=${cursor}` : ''}`;
        const page = await h.api('GET', `/v1/messages?${query}`);
        expect(page.status).toBe(200);
        expect(page.body.data.length).toBeLessThanOrEqual(200);
        for (const m of page.body.data as { id: string }[]) seen.add(m.id);
        cursor = page.body.next_cursor;
        pages += 1;
      } while (cursor !== null);
      expect(seen.size).toBe(1500);
      expect(pages).toBe(8);
    });

    it('answers a cancel with at most 1,000 of its messages', async () => {
      const res = await h.api('POST', `/v1/notifications/${notificationId}/cancel`);
      expect(res.status).toBe(200);
      expect(res.body.canceled).toBe(0);
      expect(res.body.messages).toHaveLength(1000);
    });

    it("lists at most 4,000 of a notification's status callbacks, oldest first", async () => {
      const [{ n }] = await h.sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM callback_deliveries WHERE notification_id = $1`,
        [notificationId],
      );
      expect(n).toBe(6000);
      const res = await h.api('GET', `/v1/notifications/${notificationId}/callbacks`);
      expect(res.status).toBe(200);
      expect(res.body.data).toHaveLength(4000);
      expect(res.body.data[0].event).toBe('message.pending');
      expect(res.body.data.slice(0, 4).map((d: { event: string }) => d.event)).toEqual([
        'message.pending',
        'message.queued',
        'message.sent',
        'message.failed',
      ]);
    });

    it('re-arms every failed callback but lists at most 4,000 of them', async () => {
      await h.sql(`UPDATE callback_deliveries SET status = 'failed' WHERE notification_id = $1`, [
        notificationId,
      ]);
      const res = await h.api('POST', `/v1/notifications/${notificationId}/callbacks/redeliver`);
      expect(res.status).toBe(200);
      expect(res.body.data).toHaveLength(4000);
      const rows = await h.sql<{ status: string; n: number }>(
        `SELECT status, count(*)::int AS n FROM callback_deliveries WHERE notification_id = $1
         GROUP BY status`,
        [notificationId],
      );
      expect(rows).toEqual([{ status: 'pending', n: 6000 }]);
    });

    it('lists at most 100 timeline rows of one message, oldest first', async () => {
      const [message] = await h.sql<{ id: string }>(
        `SELECT id FROM messages WHERE notification_id = $1 ORDER BY submitted_at LIMIT 1`,
        [notificationId],
      );
      await h.sql(
        `INSERT INTO message_events (message_id, type, status, source, details)
         SELECT $1, 'note', 'failed', 'api', jsonb_build_object('n', i)
         FROM generate_series(1, 150) i`,
        [message.id],
      );
      const res = await h.api('GET', `/v1/messages/${message.id}`);
      expect(res.status).toBe(200);
      expect(res.body.events).toHaveLength(100);
      expect(res.body.events[0].type).toBe('pending');
      expect(res.body.events[99].details).toEqual({ n: 96 });
    });

    it('lists at most 1,000 API keys, the active ones first', async () => {
      await h.sql(
        `INSERT INTO api_keys (name, team, scopes, key_hash, key_prefix, created_at, revoked_at)
         SELECT 'old-' || i, 'bulk', ARRAY['reports:read'], md5('revoked-' || i), 'nk_old', 
           '2025-01-01T00:00:00Z'::timestamptz + i * interval '1 minute', '2025-06-01T00:00:00Z'
         FROM generate_series(1, 1200) i`,
      );
      const res = await h.api('GET', '/v1/api-keys');
      expect(res.status).toBe(200);
      expect(res.body).toHaveLength(1000);
      const active = (res.body as { name: string; revoked_at: string | null }[]).filter(
        (k) => k.revoked_at === null,
      );
      expect(active.map((k) => k.name)).toEqual(['bulk-key', 'edge-key']);
      expect(res.body.slice(0, 2)).toEqual(active);
    });

    it.each([
      ['/v1/notifications?limit=201', 422, 'invalid_limit'],
      ['/v1/notifications?limit=0', 422, 'invalid_limit'],
      ['/v1/notifications?limit=5000', 400, 'validation_failed'],
      ['/v1/messages?limit=201', 422, 'invalid_limit'],
      ['/v1/messages?limit=5000', 400, 'validation_failed'],
    ])('refuses %s before querying (%i %s)', async (path, status, code) => {
      const res = await h.api('GET', path);
      expect(res.status).toBe(status);
      expect(res.body.error.code).toBe(code);
    });
  });
});
