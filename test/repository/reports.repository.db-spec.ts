import { randomUUID } from 'node:crypto';
import type { MessageCategory } from '../../apps/notification-service/src/common/message-category';
import { RECIPIENT_SUPPRESSED } from '../../apps/notification-service/src/common/recipient-error-codes';
import type { MessageStatus } from '../../apps/notification-service/src/delivery-status/message-status';
import type { ReportGroup } from '../../apps/notification-service/src/reports/report-groups';
import {
  type DeliveryFilter,
  type DeliveryLimits,
  MAX_FAILURE_CODES,
  ReportsRepository,
} from '../../apps/notification-service/src/reports/reports.repository';
import { cloneTemplateDatabase, type ScratchDatabase } from './scratch-database';

const T0 = new Date('2026-05-01T00:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const HOUR = 3600;

/**
 * The delivery report's aggregate as a reader of the report checks it: every message of the window
 * counted once in its group and in the totals, rates and percentiles over the right messages, the
 * window half-open, and a report with too many groups refused before it is aggregated.
 */
describe(ReportsRepository.name, () => {
  let scratch: ScratchDatabase;
  let reports: ReportsRepository;

  beforeAll(async () => {
    scratch = await cloneTemplateDatabase('rpt');
    reports = new ReportsRepository(scratch.db);
  });
  afterAll(() => scratch?.drop());
  beforeEach(() => scratch.db.query(`DELETE FROM notifications`));

  interface Fixture {
    team?: string;
    template?: string;
    category?: MessageCategory;
    status: MessageStatus;
    submitted?: number;
    queuedAfter?: number | null;
    deliveredAfter?: number | null;
    errorCode?: string | null;
    segments?: number;
    handedOver?: boolean;
  }

  /** Messages as the lifecycle leaves them, written directly: the aggregate is what is tested. */
  async function messages(...fixtures: Fixture[]): Promise<void> {
    for (const f of fixtures) {
      const [n] = await scratch.db.query<{ id: string }[]>(
        `INSERT INTO notifications (team, template_key, template_version, priority, recipient_count)
         VALUES ($1, $2, 1, 'normal', 1) RETURNING id`,
        [f.team ?? 'alpha', f.template ?? 'welcome'],
      );
      const submitted = at(f.submitted ?? 60);
      const after = (seconds: number | null | undefined) =>
        seconds === null || seconds === undefined
          ? null
          : new Date(submitted.getTime() + seconds * 1000);
      const handedOver = f.handedOver ?? !['scheduled', 'pending', 'canceled'].includes(f.status);
      await scratch.db.query(
        `INSERT INTO messages (notification_id, recipient, body, characters, encoding, segments,
           status, priority, submitted_at, queued_at, delivered_at, error_code, provider_message_id,
           category)
         VALUES ($1, '+14155550100', 'x', 1, 'GSM-7', $2, $3, 2, $4, $5, $6, $7, $8, $9)`,
        [
          n.id,
          f.segments ?? 1,
          f.status,
          submitted,
          after(f.queuedAfter),
          after(f.deliveredAfter),
          f.errorCode ?? null,
          handedOver ? `msg_${randomUUID()}` : null,
          f.category ?? 'transactional',
        ],
      );
    }
  }

  const filter = (groupBy: ReportGroup[], more: Partial<DeliveryFilter> = {}): DeliveryFilter => ({
    since: T0,
    until: at(24 * HOUR),
    team: null,
    template: null,
    category: null,
    groupBy,
    ...more,
  });
  const roomy: DeliveryLimits = { maxCombinations: 1_000, countKeys: [], maxRows: 1_000 };

  async function aggregate(f: DeliveryFilter, limits = roomy) {
    const outcome = await reports.delivery(f, limits);
    if (!outcome.fits) throw new Error(`report did not fit: ${JSON.stringify(outcome)}`);
    return outcome.aggregate;
  }

  it('counts each message once in its group and in the totals, by status', async () => {
    await messages(
      { template: 'welcome', status: 'delivered', deliveredAfter: 2 },
      { template: 'welcome', status: 'failed', errorCode: 'carrier_rejected' },
      { template: 'welcome', status: 'pending' },
      { template: 'otp', status: 'delivered', deliveredAfter: 4 },
      { template: 'otp', status: 'canceled' },
    );
    const { groups, totals } = await aggregate(filter(['template']));
    expect(groups.map((g) => [g.keys, g.figures.total])).toEqual([
      [['otp'], 2],
      [['welcome'], 3],
    ]);
    expect(groups[1].figures).toMatchObject({ delivered: 1, failed: 1, pending: 1, canceled: 0 });
    expect(totals).toMatchObject({ total: 5, delivered: 2, failed: 1, pending: 1, canceled: 1 });
  });

  it('takes the delivery rate over outcomes only, and gives none without an outcome', async () => {
    await messages(
      { template: 'a', status: 'delivered', deliveredAfter: 1 },
      { template: 'a', status: 'delivered', deliveredAfter: 1 },
      { template: 'a', status: 'delivered', deliveredAfter: 1 },
      { template: 'a', status: 'expired' },
      // Neither canceled nor unfinished messages are outcomes.
      { template: 'a', status: 'canceled' },
      { template: 'a', status: 'queued' },
      { template: 'b', status: 'pending' },
    );
    const { groups } = await aggregate(filter(['template']));
    expect(groups.map((g) => g.figures.delivery_rate)).toEqual([0.75, null]);
  });

  it('counts suppressed messages on their own: not failed, not in the delivery rate', async () => {
    await messages(
      { template: 'promo', status: 'delivered', deliveredAfter: 1 },
      { template: 'promo', status: 'failed', errorCode: 'carrier_rejected' },
      { template: 'promo', status: 'failed', errorCode: RECIPIENT_SUPPRESSED, handedOver: false },
      { template: 'promo', status: 'failed', errorCode: RECIPIENT_SUPPRESSED, handedOver: false },
      // A capped message is a failure like any other.
      { template: 'promo', status: 'failed', errorCode: 'recipient_rate_limited' },
      { template: 'quiet', status: 'failed', errorCode: RECIPIENT_SUPPRESSED, handedOver: false },
    );
    const { groups, totals, failures } = await aggregate(filter(['template']));
    expect(groups.map((g) => [g.keys[0], g.figures])).toEqual([
      [
        'promo',
        expect.objectContaining({ total: 5, failed: 2, suppressed: 2, delivery_rate: 0.3333 }),
      ],
      // Only suppressed: no outcome, so no rate.
      [
        'quiet',
        expect.objectContaining({ total: 1, failed: 0, suppressed: 1, delivery_rate: null }),
      ],
    ]);
    expect(totals).toMatchObject({ total: 6, failed: 2, suppressed: 3, delivery_rate: 0.3333 });
    expect(failures.map((f) => f.error_code).sort()).toEqual([
      'carrier_rejected',
      'recipient_rate_limited',
    ]);
  });

  it('groups by category and reports one category when asked', async () => {
    await messages(
      { template: 'code', category: 'otp', status: 'delivered', deliveredAfter: 1 },
      { template: 'promo', category: 'marketing', status: 'pending' },
      {
        template: 'promo',
        category: 'marketing',
        status: 'failed',
        errorCode: RECIPIENT_SUPPRESSED,
      },
      { template: 'receipt', status: 'pending' },
    );
    const byCategory = await aggregate(filter(['category']));
    expect(
      byCategory.groups.map((g) => [...g.keys, g.figures.total, g.figures.suppressed]),
    ).toEqual([
      ['marketing', 2, 1],
      ['otp', 1, 0],
      ['transactional', 1, 0],
    ]);
    const marketing = await aggregate(filter(['template', 'category'], { category: 'marketing' }));
    expect(marketing.groups.map((g) => g.keys)).toEqual([['promo', 'marketing']]);
    expect(marketing.totals).toMatchObject({ total: 2, suppressed: 1 });
  });

  it('takes delivery and hand-over percentiles over delivered messages only', async () => {
    await messages(
      ...[1, 2, 3, 4, 100].map((seconds) => ({
        status: 'delivered' as const,
        queuedAfter: 1,
        deliveredAfter: seconds,
      })),
      // Failed with a delivered_at from a confused provider: not a delivery.
      { status: 'failed', deliveredAfter: 5_000, queuedAfter: 1 },
    );
    const { totals } = await aggregate(filter(['template']));
    expect(totals.p50_delivery_seconds).toBe(3);
    expect(totals.p95_delivery_seconds).toBeCloseTo(80.8, 3);
    expect(totals.p50_handover_seconds).toBe(2);
  });

  it('counts the segments of messages handed to the provider only', async () => {
    await messages(
      { status: 'delivered', deliveredAfter: 1, segments: 3 },
      { status: 'failed', segments: 2 },
      { status: 'failed', segments: 7, handedOver: false },
      { status: 'pending', segments: 5 },
    );
    expect((await aggregate(filter(['template']))).totals.segments).toBe(5);
  });

  it('reports the window half-open: from since, up to but not including until', async () => {
    await messages(
      { template: 'edge', status: 'pending', submitted: 0 },
      { template: 'edge', status: 'pending', submitted: 24 * HOUR - 1 },
      { template: 'edge', status: 'pending', submitted: 24 * HOUR },
      { template: 'edge', status: 'pending', submitted: -1 },
    );
    expect((await aggregate(filter(['template']))).totals.total).toBe(2);
  });

  it('reports one team or one template when asked', async () => {
    await messages(
      { team: 'alpha', template: 'welcome', status: 'pending' },
      { team: 'alpha', template: 'otp', status: 'pending' },
      { team: 'beta', template: 'welcome', status: 'pending' },
    );
    expect((await aggregate(filter(['team'], { team: 'alpha' }))).totals.total).toBe(2);
    expect((await aggregate(filter(['team'], { template: 'welcome' }))).groups).toEqual([
      expect.objectContaining({ keys: ['alpha'] }),
      expect.objectContaining({ keys: ['beta'] }),
    ]);
    expect(
      (await aggregate(filter(['team'], { team: 'beta', template: 'otp' }))).totals.total,
    ).toBe(0);
  });

  it('groups by several keys, days and hours in UTC, in code-point order', async () => {
    await messages(
      { team: 'beta', template: 'b_x', status: 'pending', submitted: 2 * HOUR + 5 },
      { team: 'alpha', template: 'b-x', status: 'pending', submitted: 2 * HOUR + 10 },
      { team: 'alpha', template: 'B', status: 'pending', submitted: 23 * HOUR },
      { team: 'alpha', template: 'b-x', status: 'pending', submitted: 2 * HOUR + 20 },
    );
    const byTemplateAndHour = await aggregate(filter(['template', 'hour']));
    expect(byTemplateAndHour.groups.map((g) => [...g.keys, g.figures.total])).toEqual([
      ['B', '2026-05-01T23:00:00Z', 1],
      ['b-x', '2026-05-01T02:00:00Z', 2],
      ['b_x', '2026-05-01T02:00:00Z', 1],
    ]);
    const byDayAndTeam = await aggregate(filter(['day', 'team']));
    expect(byDayAndTeam.groups.map((g) => [...g.keys, g.figures.total])).toEqual([
      ['2026-05-01', 'alpha', 3],
      ['2026-05-01', 'beta', 1],
    ]);
  });

  it('lists failure codes most frequent first, unknown for none, expiries apart', async () => {
    await messages(
      { status: 'failed', errorCode: 'carrier_rejected' },
      { status: 'failed', errorCode: 'carrier_rejected' },
      { status: 'expired', errorCode: 'carrier_rejected' },
      { status: 'failed', errorCode: null },
      { status: 'expired', errorCode: 'expired' },
      { status: 'expired', errorCode: 'expired' },
      // Delivered after an error code was recorded: not a failure.
      { status: 'delivered', errorCode: 'server_error', deliveredAfter: 1 },
    );
    expect((await aggregate(filter(['template']))).failures).toEqual([
      { error_code: 'carrier_rejected', failed: 2, expired: 1 },
      { error_code: 'expired', failed: 0, expired: 2 },
      { error_code: 'unknown', failed: 1, expired: 0 },
    ]);
  });

  it(`lists at most ${MAX_FAILURE_CODES} failure codes`, async () => {
    await messages(
      ...Array.from({ length: MAX_FAILURE_CODES + 3 }, (_, i) => ({
        status: 'failed' as const,
        errorCode: `code_${String(i).padStart(2, '0')}`,
      })),
    );
    const { failures } = await aggregate(filter(['template']));
    expect(failures).toHaveLength(MAX_FAILURE_CODES);
    // Ties in code-point order, so the same report lists the same codes.
    expect(failures[0].error_code).toBe('code_00');
  });

  it('answers totals of zero for a window without messages', async () => {
    const { groups, totals, failures } = await aggregate(filter(['template']));
    expect(groups).toEqual([]);
    expect(failures).toEqual([]);
    expect(totals).toMatchObject({ total: 0, delivery_rate: null, p50_delivery_seconds: null });
  });

  describe('reports too large to aggregate', () => {
    beforeEach(() =>
      messages(
        ...['t1', 't2', 't3', 't4', 't5'].map((template) => ({
          template,
          status: 'pending' as const,
        })),
      ),
    );

    it('refuses a report with more combinations than allowed, with their exact number', async () => {
      expect(
        await reports.delivery(filter(['template']), {
          maxCombinations: 4,
          countKeys: ['template'],
          maxRows: 10,
        }),
      ).toEqual({ fits: false, combinations: 5, exact: true });
    });

    it('counts no further than it must: past maxRows the number is a lower bound', async () => {
      expect(
        await reports.delivery(filter(['template']), {
          maxCombinations: 2,
          countKeys: ['template'],
          maxRows: 2,
        }),
      ).toEqual({ fits: false, combinations: 3, exact: false });
    });

    it('aggregates a report at its limit', async () => {
      const outcome = await reports.delivery(filter(['template']), {
        maxCombinations: 5,
        countKeys: ['template'],
        maxRows: 5,
      });
      expect(outcome.fits && outcome.aggregate.groups).toHaveLength(5);
    });

    it('refuses on the row bound alone when nothing is counted first', async () => {
      expect(
        await reports.delivery(filter(['template']), {
          maxCombinations: 100,
          countKeys: [],
          maxRows: 4,
        }),
      ).toMatchObject({ fits: false, exact: false });
    });
  });
});
