import { RECIPIENT_SUPPRESSED } from '../apps/notification-service/src/common/recipient-error-codes';
import { type ApiResponse, type Harness, startHarness } from './support/harness';

/**
 * Messages are written straight into the database in exact states and at exact times, so every
 * figure below is computed by hand from the table `SEED`. The service runs as APP_ROLE=api:
 * no worker, sweeper or reconciler exists to move these messages on while we look at them.
 */

const WINDOW = 'since=2025-03-01T00:00:00Z&until=2025-03-04T00:00:00Z';

const COLUMNS = [
  'total',
  'scheduled',
  'pending',
  'queued',
  'sent',
  'delivered',
  'failed',
  'expired',
  'canceled',
  'suppressed',
  'delivery_rate',
  'p50_delivery_seconds',
  'p95_delivery_seconds',
  'p50_handover_seconds',
  'p95_handover_seconds',
  'segments',
];

interface Figures {
  total: number;
  scheduled: number;
  pending: number;
  queued: number;
  sent: number;
  delivered: number;
  failed: number;
  expired: number;
  canceled: number;
  suppressed: number;
  delivery_rate: number | null;
  p50_delivery_seconds: number | null;
  p95_delivery_seconds: number | null;
  p50_handover_seconds: number | null;
  p95_handover_seconds: number | null;
  segments: number;
}

const ZERO: Figures = {
  total: 0,
  scheduled: 0,
  pending: 0,
  queued: 0,
  sent: 0,
  delivered: 0,
  failed: 0,
  expired: 0,
  canceled: 0,
  suppressed: 0,
  delivery_rate: null,
  p50_delivery_seconds: null,
  p95_delivery_seconds: null,
  p50_handover_seconds: null,
  p95_handover_seconds: null,
  segments: 0,
};

const fig = (values: Partial<Figures>): Figures => ({ ...ZERO, ...values });

/** team, template, status, submitted_at (2025, UTC), delivered after ms, segments, handed over. */
type SeedRow = [string, string, string, string, number | null, number, boolean];

describe('Delivery reports (e2e)', () => {
  let h: Harness;
  let alphaKey: string;
  let noScopeKey: string;

  const report = (query: string, key?: string | null): Promise<ApiResponse> =>
    h.api('GET', `/v1/reports/delivery?${query}`, { key });

  async function notification(team: string, template: string): Promise<string> {
    const [row] = await h.sql<{ id: string }>(
      `INSERT INTO notifications (team, template_key, template_version, priority, recipient_count)
       VALUES ($1, $2, 1, 'normal', 1) RETURNING id`,
      [team, template],
    );
    return row.id;
  }

  /**
   * The data every expectation below is computed from. The delay is delivered_at - submitted_at in
   * ms; "handed over" means the provider accepted the message (it has a provider message id).
   * next_attempt_at is far away so that nothing would pick pending or scheduled rows up even with
   * a worker running.
   */
  const SEED: SeedRow[] = [
    ['alpha', 'otp', 'delivered', '03-01T10:00:00', 2000, 1, true], // a1
    ['alpha', 'otp', 'delivered', '03-01T11:00:00', 4000, 1, true], // a2
    ['alpha', 'otp', 'delivered', '03-02T09:00:00', 10000, 1, true], // a3
    ['alpha', 'otp', 'failed', '03-02T09:30:00', null, 1, true], // a4
    ['alpha', 'otp', 'failed', '03-02T09:31:00', null, 1, false], // a5: refused before the provider
    ['alpha', 'otp', 'pending', '03-03T08:00:00', null, 1, false], // a6
    ['alpha', 'welcome', 'delivered', '03-01T12:00:00', 1000, 2, true], // b1
    ['alpha', 'welcome', 'expired', '03-01T12:00:00.500', null, 2, true], // b2
    ['alpha', 'welcome', 'canceled', '03-02T00:00:00', null, 2, false], // b3: on the day boundary
    ['alpha', 'welcome', 'scheduled', '03-03T23:59:59.999', null, 2, false], // b4
    ['beta', 'otp', 'delivered', '03-01T23:59:59.999', 3000, 1, true], // c1: delivered on 03-02
    ['beta', 'otp', 'queued', '03-02T10:00:00', null, 3, true], // c2
    ['beta', 'otp', 'sent', '03-02T10:00:00', null, 3, true], // c3
    ['beta', 'otp', 'delivered', '03-03T10:00:00', 7000, 1, true], // c4
    ['beta', 'welcome', 'delivered', '03-02T12:00:00', -1000, 1, true], // d1: provider clock ahead
    ['beta', 'welcome', 'delivered', '03-03T12:00:00', 1234.6, 1, true], // d2
    ['beta', 'otp', 'delivered', '02-28T23:59:59.999', 5000, 1, true], // x1: just before WINDOW
    ['alpha', 'otp', 'delivered', '03-04T00:00:00', 5000, 1, true], // x2: at WINDOW's end
  ];

  async function seed(): Promise<void> {
    const ids = new Map<string, string>();
    for (const [team, template, status, submitted, deliveredAfterMs, segments, handed] of SEED) {
      const pair = `${team}/${template}`;
      const notificationId = ids.get(pair) ?? (await notification(team, template));
      ids.set(pair, notificationId);
      await h.sql(
        `INSERT INTO messages (notification_id, recipient, body, characters, encoding, segments,
           status, priority, submitted_at, delivered_at, provider_message_id, next_attempt_at)
         VALUES ($1, '+14155550100', 'report test', 11, 'GSM-7', $2, $3, 2, $4::timestamptz,
           $4::timestamptz + $5::float8 * interval '1 millisecond',
           CASE WHEN $6::boolean THEN 'msg_report_' || gen_random_uuid() END,
           '2099-01-01T00:00:00Z')`,
        [notificationId, segments, status, `2025-${submitted}Z`, deliveredAfterMs, handed],
      );
    }
  }

  async function createKey(team: string, scopes: string[]): Promise<string> {
    const res = await h.api('POST', '/v1/api-keys', {
      body: { name: `${team}-reports`, team, scopes },
    });
    expect(res.status).toBe(201);
    return res.body.key;
  }

  beforeAll(async () => {
    h = await startHarness({ env: { APP_ROLE: 'api' } });
    await seed();
    alphaKey = await createKey('alpha', ['reports:read']);
    noScopeKey = await createKey('alpha', ['notifications:read']);
  });

  afterAll(async () => {
    await h?.close();
  });

  // otp: seconds [2, 3, 4, 7, 10] → p50 4, p95 at rank 3.8 = 7 + 0.8 × 3 = 9.4.
  const OTP = fig({
    total: 10,
    pending: 1,
    queued: 1,
    sent: 1,
    delivered: 5,
    failed: 2,
    delivery_rate: 0.7143,
    p50_delivery_seconds: 4,
    p95_delivery_seconds: 9.4,
    segments: 12,
  });
  // welcome: seconds [0, 1, 1.2346] → p50 1, p95 at rank 1.9 = 1 + 0.9 × 0.2346 = 1.21114.
  const WELCOME = fig({
    total: 6,
    scheduled: 1,
    delivered: 3,
    expired: 1,
    canceled: 1,
    delivery_rate: 0.75,
    p50_delivery_seconds: 1,
    p95_delivery_seconds: 1.211,
    segments: 6,
  });
  // all: seconds [0, 1, 1.2346, 2, 3, 4, 7, 10] → p50 2.5, p95 at rank 6.65 = 7 + 0.65 × 3 = 8.95; 8 / 11.
  const ALL = fig({
    total: 16,
    scheduled: 1,
    pending: 1,
    queued: 1,
    sent: 1,
    delivered: 8,
    failed: 2,
    expired: 1,
    canceled: 1,
    delivery_rate: 0.7273,
    p50_delivery_seconds: 2.5,
    p95_delivery_seconds: 8.95,
    segments: 18,
  });
  // alpha: seconds [1, 2, 4, 10] → p50 3, p95 at rank 2.85 = 4 + 0.85 × 6 = 9.1; 4 / 7.
  const ALPHA = fig({
    total: 10,
    scheduled: 1,
    pending: 1,
    delivered: 4,
    failed: 2,
    expired: 1,
    canceled: 1,
    delivery_rate: 0.5714,
    p50_delivery_seconds: 3,
    p95_delivery_seconds: 9.1,
    segments: 8,
  });
  // beta: seconds [0, 1.2346, 3, 7] → p50 2.1173, p95 at rank 2.85 = 3 + 0.85 × 4 = 6.4; 4 / 4.
  const BETA = fig({
    total: 6,
    queued: 1,
    sent: 1,
    delivered: 4,
    delivery_rate: 1,
    p50_delivery_seconds: 2.117,
    p95_delivery_seconds: 6.4,
    segments: 10,
  });
  // 03-01: seconds [1, 2, 3, 4] → p50 2.5, p95 3.85; 4 / 5.
  const DAY1 = fig({
    total: 5,
    delivered: 4,
    expired: 1,
    delivery_rate: 0.8,
    p50_delivery_seconds: 2.5,
    p95_delivery_seconds: 3.85,
    segments: 7,
  });
  // 03-02: seconds [0, 10] → p50 5, p95 9.5; 2 / 4. b3 at 00:00:00.000 belongs here.
  const DAY2 = fig({
    total: 7,
    queued: 1,
    sent: 1,
    delivered: 2,
    failed: 2,
    canceled: 1,
    delivery_rate: 0.5,
    p50_delivery_seconds: 5,
    p95_delivery_seconds: 9.5,
    segments: 9,
  });
  // 03-03: seconds [1.2346, 7] → p50 4.1173, p95 1.2346 + 0.95 × 5.7654 = 6.71173.
  const DAY3 = fig({
    total: 4,
    scheduled: 1,
    pending: 1,
    delivered: 2,
    delivery_rate: 1,
    p50_delivery_seconds: 4.117,
    p95_delivery_seconds: 6.712,
    segments: 2,
  });

  describe('figures', () => {
    it('groups by template by default, sorted by key, with totals over every message', async () => {
      const res = await report(WINDOW);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.body).toEqual({
        since: '2025-03-01T00:00:00.000Z',
        until: '2025-03-04T00:00:00.000Z',
        group_by: 'template',
        team: null,
        template: null,
        category: null,
        rows: [
          { template: 'otp', ...OTP },
          { template: 'welcome', ...WELCOME },
        ],
        totals: ALL,
        // a4 and a5 failed, b2 expired, none with a recorded code.
        failures: [{ error_code: 'unknown', failed: 2, expired: 1 }],
      });
      // The group key leads each row.
      expect(Object.keys(res.body.rows[0])).toEqual(['template', ...COLUMNS]);
    });

    it('groups by team', async () => {
      const res = await report(`${WINDOW}&group_by=team`);
      expect(res.status).toBe(200);
      expect(res.body.rows).toEqual([
        { team: 'alpha', ...ALPHA },
        { team: 'beta', ...BETA },
      ]);
      expect(res.body.totals).toEqual(ALL);
    });

    it('groups by UTC day of submission, half-open at midnight', async () => {
      const res = await report(`${WINDOW}&group_by=day`);
      expect(res.status).toBe(200);
      expect(res.body.rows).toEqual([
        { day: '2025-03-01', ...DAY1 },
        { day: '2025-03-02', ...DAY2 },
        { day: '2025-03-03', ...DAY3 },
      ]);
      expect(res.body.totals).toEqual(ALL);
    });

    it('keeps the window half-open: since is in, until is out', async () => {
      // x1 (02-28 23:59:59.999) and x2 (03-04 00:00:00) sit just outside WINDOW; widening takes them in.
      const wide = await report(
        'since=2025-02-28T23:59:59.999Z&until=2025-03-04T00:00:00.001Z&group_by=day',
      );
      expect(wide.status).toBe(200);
      expect(wide.body.rows.map((r: { day: string; total: number }) => [r.day, r.total])).toEqual([
        ['2025-02-28', 1],
        ['2025-03-01', 5],
        ['2025-03-02', 7],
        ['2025-03-03', 4],
        ['2025-03-04', 1],
      ]);
      expect(wide.body.totals.total).toBe(18);

      const firstDay = await report(
        'since=2025-03-01T00:00:00Z&until=2025-03-02T00:00:00Z&group_by=day',
      );
      expect(firstDay.body.rows).toEqual([{ day: '2025-03-01', ...DAY1 }]);
      expect(firstDay.body.totals).toEqual(DAY1);

      // Same instant written with an offset: b3 at 03-02 00:00:00Z is the first message in.
      const secondDay = await report(
        'since=2025-03-02T01:00:00%2B01:00&until=2025-03-02T19:00:00-05:00&group_by=day',
      );
      expect(secondDay.body.since).toBe('2025-03-02T00:00:00.000Z');
      expect(secondDay.body.until).toBe('2025-03-03T00:00:00.000Z');
      expect(secondDay.body.rows).toEqual([{ day: '2025-03-02', ...DAY2 }]);
    });

    it('filters by template and team together', async () => {
      const res = await report(`${WINDOW}&template=otp&team=beta`);
      expect(res.status).toBe(200);
      // c1..c4: seconds [3, 7] → p50 5, p95 3 + 0.95 × 4 = 6.8; segments 1 + 3 + 3 + 1.
      const betaOtp = fig({
        total: 4,
        queued: 1,
        sent: 1,
        delivered: 2,
        delivery_rate: 1,
        p50_delivery_seconds: 5,
        p95_delivery_seconds: 6.8,
        segments: 8,
      });
      expect(res.body).toMatchObject({
        team: 'beta',
        template: 'otp',
        rows: [{ template: 'otp', ...betaOtp }],
        totals: betaOtp,
      });
    });

    it('rounds percentiles to 3 decimals and counts a negative gap (provider clock skew) as 0', async () => {
      const res = await report(`${WINDOW}&template=welcome&team=beta&group_by=day`);
      // d1 → 0 s, d2 → 1.2346 s. Together: p50 0.6173, p95 0.95 × 1.2346 = 1.17287.
      expect(res.body.rows).toEqual([
        { day: '2025-03-01', ...ZERO },
        {
          day: '2025-03-02',
          ...fig({
            total: 1,
            delivered: 1,
            delivery_rate: 1,
            p50_delivery_seconds: 0,
            p95_delivery_seconds: 0,
            segments: 1,
          }),
        },
        {
          day: '2025-03-03',
          ...fig({
            total: 1,
            delivered: 1,
            delivery_rate: 1,
            p50_delivery_seconds: 1.235,
            p95_delivery_seconds: 1.235,
            segments: 1,
          }),
        },
      ]);
      expect(res.body.totals).toMatchObject({
        p50_delivery_seconds: 0.617,
        p95_delivery_seconds: 1.173,
      });
    });

    it('gives null rate and percentiles when nothing has a final provider outcome', async () => {
      // 03-03 alpha: a6 pending and b4 scheduled only.
      const res = await report(
        'since=2025-03-03T00:00:00Z&until=2025-03-04T00:00:00Z&team=alpha&group_by=team',
      );
      expect(res.body.rows).toEqual([
        { team: 'alpha', ...fig({ total: 2, scheduled: 1, pending: 1 }) },
      ]);
    });

    it('answers an empty report, not an error, for a template or team without messages', async () => {
      for (const query of [
        `${WINDOW}&template=nope`,
        `${WINDOW}&team=nobody`,
        'since=2020-01-01T00:00:00Z&until=2020-02-01T00:00:00Z',
      ]) {
        const res = await report(query);
        expect({ query, status: res.status, rows: res.body.rows, totals: res.body.totals }).toEqual(
          { query, status: 200, rows: [], totals: ZERO },
        );
      }
    });

    it('defaults to the 7 days up to now', async () => {
      const gamma = await notification('gamma', 'otp');
      await h.sql(
        `INSERT INTO messages (notification_id, recipient, body, characters, encoding, segments, status, priority, submitted_at, next_attempt_at)
         SELECT $1, '+14155550100', 'x', 1, 'GSM-7', 1, 'pending', 2, now() - d * interval '1 day', '2099-01-01T00:00:00Z'
         FROM unnest(ARRAY[1, 6.9, 7.1, 30]) AS d`,
        [gamma],
      );
      const before = Date.now();
      const res = await report('team=gamma');
      expect(res.status).toBe(200);
      expect(res.body.totals.total).toBe(2);
      const since = Date.parse(res.body.since);
      const until = Date.parse(res.body.until);
      expect(until - since).toBe(7 * 24 * 3600 * 1000);
      expect(until).toBeGreaterThanOrEqual(before - 1000);
      expect(until).toBeLessThanOrEqual(Date.now() + 1000);

      // until alone: the week before it; since alone: up to now.
      const weekBefore = await report('team=gamma&until=2025-03-04T00:00:00Z');
      expect(weekBefore.body.since).toBe('2025-02-25T00:00:00.000Z');
      const sinceOnly = await report(
        `team=gamma&since=${encodeURIComponent(new Date(Date.now() - 10 * 86_400_000).toISOString())}`,
      );
      expect(sinceOnly.body.totals.total).toBe(3);
    });
  });

  describe('CSV', () => {
    function parseCsv(text: string): string[][] {
      expect(text.endsWith('\r\n')).toBe(true);
      // Keys are [a-z0-9_.-] and figures are numbers: no cell here needs quoting.
      return text
        .slice(0, -2)
        .split('\r\n')
        .map((line) => line.split(','));
    }

    const asCells = (row: Record<string, string | number | null>, key: string) =>
      [key, ...COLUMNS].map((c) => (row[c] === null ? '' : String(row[c])));

    it.each(['template', 'team', 'day'])(
      'matches the JSON rows for group_by=%s, without a totals line',
      async (groupBy) => {
        const json = await report(`${WINDOW}&group_by=${groupBy}`);
        const csv = await report(`${WINDOW}&group_by=${groupBy}&format=csv`);
        expect(csv.status).toBe(200);
        expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
        expect(csv.headers.get('content-disposition')).toBe(
          'attachment; filename="delivery-report.csv"',
        );
        const [header, ...lines] = parseCsv(csv.text);
        expect(header).toEqual(['since', 'until', groupBy, ...COLUMNS]);
        expect(lines).toEqual(
          json.body.rows.map((row: Record<string, string | number | null>) => [
            '2025-03-01T00:00:00.000Z',
            '2025-03-04T00:00:00.000Z',
            ...asCells(row, groupBy),
          ]),
        );
        expect(lines.length).toBeGreaterThan(1);
      },
    );

    it('writes exact figures, with empty cells for nulls', async () => {
      const csv = await report(
        'since=2025-03-03T00:00:00Z&until=2025-03-04T00:00:00Z&group_by=team&format=csv',
      );
      expect(csv.text).toBe(
        `since,until,team,${COLUMNS.join(',')}\r\n` +
          '2025-03-03T00:00:00.000Z,2025-03-04T00:00:00.000Z,alpha,2,1,1,0,0,0,0,0,0,0,,,,,,0\r\n' +
          '2025-03-03T00:00:00.000Z,2025-03-04T00:00:00.000Z,beta,2,0,0,0,0,2,0,0,0,0,1,4.117,6.712,,,2\r\n',
      );
    });

    it('writes only the header for an empty report', async () => {
      const csv = await report(`${WINDOW}&template=nope&format=csv`);
      expect(csv.status).toBe(200);
      expect(csv.text).toBe(`since,until,template,${COLUMNS.join(',')}\r\n`);
    });
  });

  describe('hours, several groupings, hand-over latency and failures', () => {
    const HOURS = 'since=2025-05-01T10:00:00Z&until=2025-05-01T13:00:00Z&team=delta';

    /** template, status, submitted (2025-05-01, UTC), queued after ms, delivered after ms, error code. */
    const ROWS: [string, string, string, number | null, number | null, string | null][] = [
      ['otp', 'delivered', '10:00:00', 5000, 6000, null], // held 5 s (scheduled, paused), 1 s at the provider
      ['otp', 'delivered', '10:20:00', 1000, 4000, null], // 3 s at the provider
      ['welcome', 'expired', '10:40:00', 0, null, 'status_timeout'],
      ['otp', 'failed', '12:10:00', null, null, 'undeliverable'],
      ['welcome', 'failed', '12:30:00', null, null, 'undeliverable'],
    ];

    beforeAll(async () => {
      for (const [template, status, at, queuedMs, deliveredMs, errorCode] of ROWS) {
        const notificationId = await notification('delta', template);
        await h.sql(
          `INSERT INTO messages (notification_id, recipient, body, characters, encoding, segments,
             status, priority, submitted_at, queued_at, delivered_at, provider_message_id,
             error_code, next_attempt_at)
           VALUES ($1, '+14155550100', 'hour test', 9, 'GSM-7', 1, $2, 2, $3::timestamptz,
             $3::timestamptz + $4::float8 * interval '1 millisecond',
             $3::timestamptz + $5::float8 * interval '1 millisecond',
             CASE WHEN $4::float8 IS NOT NULL THEN 'msg_hour_' || gen_random_uuid() END,
             $6, '2099-01-01T00:00:00Z')`,
          [notificationId, status, `2025-05-01T${at}Z`, queuedMs, deliveredMs, errorCode],
        );
      }
    });

    it('gives a row for every hour of the window, zero-filled, with both latencies', async () => {
      const res = await report(`${HOURS}&group_by=hour`);
      expect(res.status).toBe(200);
      expect(res.body.group_by).toBe('hour');
      // From submission [6, 4] s → p50 5, p95 4 + 0.95 × 2; from hand-over [1, 3] s → 2, 2.9.
      expect(res.body.rows).toEqual([
        {
          hour: '2025-05-01T10:00:00Z',
          ...fig({
            total: 3,
            delivered: 2,
            expired: 1,
            delivery_rate: 0.6667,
            p50_delivery_seconds: 5,
            p95_delivery_seconds: 5.9,
            p50_handover_seconds: 2,
            p95_handover_seconds: 2.9,
            segments: 3,
          }),
        },
        { hour: '2025-05-01T11:00:00Z', ...ZERO },
        { hour: '2025-05-01T12:00:00Z', ...fig({ total: 2, failed: 2, delivery_rate: 0 }) },
      ]);
      expect(res.body.failures).toEqual([
        { error_code: 'undeliverable', failed: 2, expired: 0 },
        { error_code: 'status_timeout', failed: 0, expired: 1 },
      ]);
    });

    it('groups by template and hour at once, each template over every hour', async () => {
      const res = await report(`${HOURS}&group_by=template,hour`);
      expect(res.status).toBe(200);
      expect(
        res.body.rows.map((r: Figures & { template: string; hour: string }) => [
          r.template,
          r.hour.slice(11, 13),
          r.total,
          r.delivered,
          r.failed,
          r.expired,
          r.p50_handover_seconds,
        ]),
      ).toEqual([
        ['otp', '10', 2, 2, 0, 0, 2],
        ['otp', '11', 0, 0, 0, 0, null],
        ['otp', '12', 1, 0, 1, 0, null],
        ['welcome', '10', 1, 0, 0, 1, null],
        ['welcome', '11', 0, 0, 0, 0, null],
        ['welcome', '12', 1, 0, 1, 0, null],
      ]);
      expect(res.body.totals.total).toBe(5);

      const csv = await report(`${HOURS}&group_by=template,hour&format=csv`);
      const [header, first] = csv.text.split('\r\n');
      expect(header).toBe(`since,until,template,hour,${COLUMNS.join(',')}`);
      expect(first).toBe(
        '2025-05-01T10:00:00.000Z,2025-05-01T13:00:00.000Z,otp,2025-05-01T10:00:00Z,' +
          '2,0,0,0,0,2,0,0,0,0,1,5,5.9,2,2.9,2',
      );
    });
  });

  describe('categories and suppressed messages', () => {
    const JUNE = 'since=2025-06-01T00:00:00Z&until=2025-06-02T00:00:00Z&team=epsilon';

    /** template, category, status, submitted (2025-06-01, UTC), error code. */
    const ROWS: [string, string, string, string, string | null][] = [
      ['login_code', 'otp', 'delivered', '08:00:00', null],
      ['login_code', 'otp', 'failed', '08:10:00', 'recipient_rate_limited'],
      ['receipt', 'transactional', 'delivered', '09:00:00', null],
      ['receipt', 'transactional', 'failed', '09:10:00', RECIPIENT_SUPPRESSED],
      ['promo', 'marketing', 'delivered', '10:00:00', null],
      ['promo', 'marketing', 'failed', '10:05:00', 'undeliverable'],
      ['promo', 'marketing', 'failed', '10:10:00', RECIPIENT_SUPPRESSED],
      ['promo', 'marketing', 'failed', '10:20:00', RECIPIENT_SUPPRESSED],
    ];

    beforeAll(async () => {
      for (const [template, category, status, at, errorCode] of ROWS) {
        const notificationId = await notification('epsilon', template);
        const sent = errorCode !== RECIPIENT_SUPPRESSED;
        await h.sql(
          `INSERT INTO messages (notification_id, recipient, body, characters, encoding, segments,
             status, priority, submitted_at, queued_at, delivered_at, provider_message_id,
             error_code, category, next_attempt_at)
           VALUES ($1, '+14155550100', 'category test', 13, 'GSM-7', 1, $2, 2, $3::timestamptz,
             CASE WHEN $6::boolean THEN $3::timestamptz END,
             CASE WHEN $2 = 'delivered' THEN $3::timestamptz + interval '2 seconds' END,
             CASE WHEN $6::boolean THEN 'msg_category_' || gen_random_uuid() END,
             $4, $5, '2099-01-01T00:00:00Z')`,
          [notificationId, status, `2025-06-01T${at}Z`, errorCode, category, sent],
        );
      }
    });

    it('counts suppressed messages in their own column, outside failed and the delivery rate', async () => {
      const res = await report(`${JUNE}&group_by=category`);
      expect(res.status).toBe(200);
      const pick = (row: Figures & { category?: string }) => ({
        category: row.category,
        total: row.total,
        delivered: row.delivered,
        failed: row.failed,
        suppressed: row.suppressed,
        delivery_rate: row.delivery_rate,
        segments: row.segments,
      });
      // Categories in byte order. Marketing: 1 delivered of 2 attempts (the 2 suppressed never
      // went out, cost nothing, and are not outcomes); a capped OTP is an ordinary failure.
      expect(res.body.rows.map(pick)).toEqual([
        {
          category: 'marketing',
          total: 4,
          delivered: 1,
          failed: 1,
          suppressed: 2,
          delivery_rate: 0.5,
          segments: 2,
        },
        {
          category: 'otp',
          total: 2,
          delivered: 1,
          failed: 1,
          suppressed: 0,
          delivery_rate: 0.5,
          segments: 2,
        },
        {
          category: 'transactional',
          total: 2,
          delivered: 1,
          failed: 0,
          suppressed: 1,
          delivery_rate: 1,
          segments: 1,
        },
      ]);
      expect(pick(res.body.totals)).toEqual({
        category: undefined,
        total: 8,
        delivered: 3,
        failed: 2,
        suppressed: 3,
        delivery_rate: 0.6,
        segments: 5,
      });
      // The failures list adds up to `failed`: suppression is not among them.
      expect(res.body.failures).toEqual([
        { error_code: 'recipient_rate_limited', failed: 1, expired: 0 },
        { error_code: 'undeliverable', failed: 1, expired: 0 },
      ]);
    });

    it('reports one category when asked, and echoes the filter', async () => {
      const res = await report(`${JUNE}&category=marketing&group_by=template,category`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ category: 'marketing', group_by: 'template,category' });
      expect(res.body.rows).toEqual([
        expect.objectContaining({ template: 'promo', category: 'marketing', suppressed: 2 }),
      ]);
      expect(res.body.totals).toMatchObject({ total: 4, failed: 1, suppressed: 2 });
    });

    it('groups by category and hour over the whole window, and writes it as CSV', async () => {
      const res = await report(`${JUNE}&group_by=category,hour`);
      expect(res.status).toBe(200);
      // Three categories × 24 hours, zero-filled.
      expect(res.body.rows).toHaveLength(72);
      const csv = await report(`${JUNE}&group_by=category,hour&format=csv`);
      const lines = csv.text.split('\r\n');
      expect(lines[0]).toBe(`since,until,category,hour,${COLUMNS.join(',')}`);
      // marketing, 10:00: 4 messages, 1 delivered, 1 failed, 2 suppressed.
      expect(lines).toContain(
        '2025-06-01T00:00:00.000Z,2025-06-02T00:00:00.000Z,marketing,2025-06-01T10:00:00Z,' +
          '4,0,0,0,0,1,1,0,0,2,0.5,2,2,2,2,2',
      );
      expect(lines).toHaveLength(1 + 72 + 1);
    });
  });

  describe('team scoping', () => {
    it('shows a team key only its own team, whatever it groups by', async () => {
      const own = await report(WINDOW, alphaKey);
      expect(own.status).toBe(200);
      // alpha otp: seconds [2, 4, 10] → p50 4, p95 4 + 0.9 × 6 = 9.4; 3 / 5. alpha welcome: b1 only.
      expect(own.body).toMatchObject({
        team: 'alpha',
        rows: [
          {
            template: 'otp',
            ...fig({
              total: 6,
              pending: 1,
              delivered: 3,
              failed: 2,
              delivery_rate: 0.6,
              p50_delivery_seconds: 4,
              p95_delivery_seconds: 9.4,
              segments: 4,
            }),
          },
          {
            template: 'welcome',
            ...fig({
              total: 4,
              scheduled: 1,
              delivered: 1,
              expired: 1,
              canceled: 1,
              delivery_rate: 0.5,
              p50_delivery_seconds: 1,
              p95_delivery_seconds: 1,
              segments: 4,
            }),
          },
        ],
        totals: ALPHA,
      });
      const byTeam = await report(`${WINDOW}&group_by=team`, alphaKey);
      expect(byTeam.body.rows).toEqual([{ team: 'alpha', ...ALPHA }]);
      const explicit = await report(`${WINDOW}&team=alpha`, alphaKey);
      expect(explicit.body).toEqual(own.body);
      const admin = await report(`${WINDOW}&team=alpha`);
      expect(admin.body).toEqual(own.body);
    });

    it('refuses a team key asking for another team with 403', async () => {
      for (const format of ['json', 'csv']) {
        const res = await report(`${WINDOW}&team=beta&format=${format}`, alphaKey);
        expect(res.status).toBe(403);
        expect(res.body).toEqual({
          success: false,
          error: {
            code: 'forbidden',
            message: 'This API key belongs to team alpha and can only report on that team',
            details: { team: 'alpha', requested_team: 'beta' },
          },
        });
      }
    });

    it('shows the admin key every team', async () => {
      const res = await report(`${WINDOW}&group_by=team`);
      expect(res.body.rows.map((r: { team: string }) => r.team)).toEqual(['alpha', 'beta']);
    });
  });

  describe('auth and validation', () => {
    it('needs a key (401) holding reports:read (403)', async () => {
      const anonymous = await report(WINDOW, null);
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.success).toBe(false);
      const unscoped = await report(WINDOW, noScopeKey);
      expect(unscoped.status).toBe(403);
      expect(unscoped.body.error).toMatchObject({
        code: 'forbidden',
        details: { required_scope: 'reports:read' },
      });
    });

    it.each([
      ['group_by=week', 400, 'validation_failed'],
      ['group_by=day,', 400, 'validation_failed'],
      ['group_by=day,day', 422, 'invalid_group_by'],
      ['group_by=day,hour', 422, 'invalid_group_by'],
      [
        'group_by=hour&since=2025-01-01T00:00:00Z&until=2025-03-01T00:00:00Z',
        422,
        'too_many_buckets',
      ],
      ['group_by=day&group_by=team', 400, 'duplicate_query_parameter'],
      ['format=xml', 400, 'validation_failed'],
      ['since=yesterday', 400, 'validation_failed'],
      ['since=2025-03-01', 400, 'validation_failed'],
      ['since=2025-03-01T00:00:00', 400, 'validation_failed'],
      ['since=2025-02-30T00:00:00Z', 400, 'validation_failed'],
      ['until=2025-13-01T00:00:00Z', 400, 'validation_failed'],
      ['team=Not%20A%20Team', 400, 'validation_failed'],
      ['template=%3DHYPERLINK()', 400, 'validation_failed'],
      ['colour=blue', 400, 'validation_failed'],
      ['category=promo', 400, 'validation_failed'],
      ['group_by=category,category', 422, 'invalid_group_by'],
      ['since=2025-03-02T00:00:00Z&until=2025-03-01T00:00:00Z', 422, 'invalid_window'],
      ['since=2025-03-01T00:00:00Z&until=2025-03-01T00:00:00Z', 422, 'invalid_window'],
      ['since=2099-01-01T00:00:00Z', 422, 'invalid_window'],
      ['since=2024-01-01T00:00:00Z&until=2025-01-01T00:00:00.001Z', 422, 'window_too_large'],
    ])('refuses %s with %i %s', async (query, status, code) => {
      const res = await report(query);
      expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
      expect(res.body.success).toBe(false);
      expect(typeof res.body.error.message).toBe('string');
    });

    it('documents the endpoint and its parameters in OpenAPI', async () => {
      const docs = await h.api('GET', '/docs/json', { key: null });
      const operation = docs.body.paths['/v1/reports/delivery'].get;
      const params = Object.fromEntries(
        operation.parameters.map((p: { name: string; schema: unknown }) => [p.name, p.schema]),
      );
      expect(Object.keys(params).sort()).toEqual(
        ['category', 'format', 'group_by', 'since', 'team', 'template', 'until'].sort(),
      );
      expect(params.category).toMatchObject({ enum: ['otp', 'transactional', 'marketing'] });
      expect(params.group_by).toMatchObject({ type: 'string', default: 'template' });
      expect(new RegExp(params.group_by.pattern).test('template,hour')).toBe(true);
      expect(new RegExp(params.group_by.pattern).test('week')).toBe(false);
      expect(Object.keys(operation.responses['200'].content).sort()).toEqual([
        'application/json',
        'text/csv',
      ]);
    });

    it('accepts a window of exactly 366 days', async () => {
      const res = await report('since=2024-01-01T00:00:00Z&until=2025-01-01T00:00:00Z');
      expect(res.status).toBe(200);
    });
  });
});
