import type { Principal, Scope } from '../auth/scopes';
import { ForbiddenError, ServiceUnavailableError } from '../common/errors/api-error';
import type { DeliveryFigures } from './reports.dto';
import type {
  DeliveryAggregate,
  DeliveryFilter,
  DeliveryLimits,
  DeliveryOutcome,
  ReportsRepository,
} from './reports.repository';
import { groupsToCount, MAX_REPORT_ROWS } from './report-size';
import { ReportsService } from './reports.service';

function figures(overrides: Partial<DeliveryFigures> = {}): DeliveryFigures {
  return {
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
    ...overrides,
  };
}

function principal(team: string, isAdmin = false): Principal {
  return { keyId: 'k1', team, scopes: new Set<Scope>(['reports:read']), isAdmin };
}

describe(ReportsService.name, () => {
  let calls: DeliveryFilter[];
  let limits: DeliveryLimits[];
  let result: DeliveryAggregate;
  /** What the repository's bounded count found, when the report does not fit. */
  let oversized: { combinations: number; exact: boolean } | undefined;
  let failure: Error | undefined;
  let service: ReportsService;

  beforeEach(() => {
    calls = [];
    limits = [];
    failure = undefined;
    oversized = undefined;
    result = { groups: [], totals: figures(), failures: [] };
    const repository = {
      delivery: (filter: DeliveryFilter, limit: DeliveryLimits): Promise<DeliveryOutcome> => {
        calls.push(filter);
        limits.push(limit);
        if (failure !== undefined) return Promise.reject(failure);
        return Promise.resolve(
          oversized ? { fits: false, ...oversized } : { fits: true, aggregate: result },
        );
      },
    };
    service = new ReportsService(repository as unknown as ReportsRepository);
  });

  it('forces a team key onto its own team', async () => {
    const report = await service.delivery(principal('payments'), {});
    expect(calls[0]).toMatchObject({ team: 'payments', template: null, groupBy: ['template'] });
    expect(report.team).toBe('payments');
  });

  it('lets a team key name its own team', async () => {
    await service.delivery(principal('payments'), { team: 'payments' });
    expect(calls[0].team).toBe('payments');
  });

  it('refuses a team key naming another team with 403, before any query', async () => {
    await expect(
      service.delivery(principal('payments'), { team: 'growth' }),
    ).rejects.toBeInstanceOf(ForbiddenError);
    expect(calls).toHaveLength(0);
  });

  it('reports on every team for an admin key unless a team is named', async () => {
    await service.delivery(principal('platform', true), {});
    await service.delivery(principal('platform', true), { team: 'growth', group_by: 'day' });
    expect(calls.map((c) => [c.team, c.groupBy])).toEqual([
      [null, ['template']],
      ['growth', ['day']],
    ]);
  });

  it('names each row by its group and echoes the applied window and filters', async () => {
    result = {
      groups: [{ keys: ['2026-01-01'], figures: figures({ total: 2, delivered: 2 }) }],
      totals: figures({ total: 2, delivered: 2 }),
      failures: [],
    };
    const report = await service.delivery(principal('platform', true), {
      since: '2026-01-01T00:00:00Z',
      until: '2026-01-03T00:00:00+00:00',
      group_by: 'day',
      template: 'otp',
    });
    expect(report).toEqual({
      since: '2026-01-01T00:00:00.000Z',
      until: '2026-01-03T00:00:00.000Z',
      group_by: 'day',
      team: null,
      template: 'otp',
      category: null,
      rows: [
        { day: '2026-01-01', ...figures({ total: 2, delivered: 2 }) },
        { day: '2026-01-02', ...figures() },
      ],
      totals: figures({ total: 2, delivered: 2 }),
      failures: [],
    });
    expect(Object.keys(report.rows[0])[0]).toBe('day');
  });

  it('turns a statement timeout into 503 report_timeout', async () => {
    failure = Object.assign(new Error('canceling statement due to statement timeout'), {
      code: '57014',
    });
    await expect(service.delivery(principal('payments'), {})).rejects.toBeInstanceOf(
      ServiceUnavailableError,
    );
  });

  it('lets other database errors through untouched', async () => {
    failure = new Error('connection lost');
    await expect(service.delivery(principal('payments'), {})).rejects.toBe(failure);
  });

  it('zero-fills hour buckets for each template, sorted by template then hour', async () => {
    result = {
      groups: [
        { keys: ['otp', '2026-01-01T11:00:00Z'], figures: figures({ total: 1 }) },
        { keys: ['welcome', '2026-01-01T10:00:00Z'], figures: figures({ total: 2 }) },
      ],
      totals: figures({ total: 3 }),
      failures: [],
    };
    const report = await service.delivery(principal('platform', true), {
      since: '2026-01-01T10:30:00Z',
      until: '2026-01-01T12:00:00Z',
      group_by: 'template,hour',
    });
    expect(report.group_by).toBe('template,hour');
    expect(report.rows.map((r) => [r.template, r.hour, r.total])).toEqual([
      ['otp', '2026-01-01T10:00:00Z', 0],
      ['otp', '2026-01-01T11:00:00Z', 1],
      ['welcome', '2026-01-01T10:00:00Z', 2],
      ['welcome', '2026-01-01T11:00:00Z', 0],
    ]);
  });

  it('refuses more hour buckets than a month has, before any query', async () => {
    await expect(
      service.delivery(principal('platform', true), {
        since: '2026-01-01T00:00:00Z',
        until: '2026-02-01T00:00:01Z',
        group_by: 'hour',
      }),
    ).rejects.toMatchObject({ status: 422, code: 'too_many_buckets' });
    expect(calls).toHaveLength(0);
  });

  describe('size', () => {
    const MONTH_OF_HOURS = {
      since: '2026-01-01T00:00:00Z',
      until: '2026-01-31T00:00:00Z',
      group_by: 'template,hour',
    };

    it('allows the combinations that fit the buckets, and counts only the open groupings', async () => {
      await service.delivery(principal('platform', true), MONTH_OF_HOURS);
      await service.delivery(principal('platform', true), { ...MONTH_OF_HOURS, template: 'otp' });
      await service.delivery(principal('platform', true), { group_by: 'template,team' });
      await service.delivery(principal('platform', true), {
        since: '2026-01-01T00:00:00Z',
        until: '2026-01-08T00:00:00Z',
        group_by: 'day',
      });
      expect(limits).toEqual([
        { maxCombinations: 13, countKeys: ['template'], maxRows: MAX_REPORT_ROWS },
        { maxCombinations: 13, countKeys: [], maxRows: MAX_REPORT_ROWS },
        { maxCombinations: MAX_REPORT_ROWS, countKeys: ['template', 'team'], maxRows: 10_000 },
        { maxCombinations: 1428, countKeys: [], maxRows: MAX_REPORT_ROWS },
      ]);
    });

    it('counts no categories: at most three of them, so their combinations are known to fit', async () => {
      await service.delivery(principal('platform', true), {
        ...MONTH_OF_HOURS,
        group_by: 'category,hour',
      });
      await service.delivery(principal('platform', true), {
        ...MONTH_OF_HOURS,
        group_by: 'template,category,hour',
      });
      await service.delivery(principal('platform', true), {
        ...MONTH_OF_HOURS,
        group_by: 'template,category,hour',
        category: 'otp',
      });
      expect(limits.map((limit) => limit.countKeys)).toEqual([
        [],
        ['template', 'category'],
        ['template'],
      ]);
      expect(calls.map((call) => call.category)).toEqual([null, null, 'otp']);
    });

    it('counts categories when even three of them would not fit the buckets', () => {
      // 9,999 hours cannot happen (744 at most), so the rule is checked on its own.
      expect(
        groupsToCount(
          {
            groupBy: ['category', 'hour'],
            window: { since: new Date(0), until: new Date(1) },
            team: null,
            template: null,
            category: null,
          },
          2,
        ),
      ).toEqual(['category']);
    });

    it('names category=<category> among the ways to narrow', async () => {
      oversized = { combinations: 20, exact: true };
      await expect(
        service.delivery(principal('payments'), {
          ...MONTH_OF_HOURS,
          group_by: 'template,category,hour',
        }),
      ).rejects.toMatchObject({
        message: expect.stringContaining('(20 template/category × 720 hours)'),
        details: {
          narrow: expect.arrayContaining([
            'template=<key>: one template',
            'category=<category>: one category',
          ]),
        },
      });
    });

    it('refuses with 422 report_too_large naming rows, limit and ways to narrow', async () => {
      oversized = { combinations: 300, exact: true };
      const refusal = service.delivery(principal('payments'), MONTH_OF_HOURS);
      await expect(refusal).rejects.toMatchObject({
        status: 422,
        code: 'report_too_large',
        details: {
          rows: 216_000,
          rows_exact: true,
          max_rows: 10_000,
          combinations: 300,
          buckets: 720,
          group_by: 'template,hour',
          narrow: [
            'a shorter window (since/until): at most 33 hours with these 300 groups',
            'group_by=template,day (9,000 rows)',
            'template=<key>: one template',
          ],
        },
      });
      await expect(refusal).rejects.toThrow(
        'This report would have 216,000 rows (300 template × 720 hours); a report has at most 10,000.',
      );
    });

    it('says "at least" when the count stopped at its bound', async () => {
      oversized = { combinations: 10_001, exact: false };
      await expect(
        service.delivery(principal('platform', true), { group_by: 'team,template' }),
      ).rejects.toMatchObject({
        message: expect.stringContaining('at least 10,001 rows (10,001+ team/template)'),
        details: {
          rows: 10_001,
          rows_exact: false,
          narrow: [
            'a shorter window (since/until)',
            'template=<key>: one template',
            'team=<team>: one team',
          ],
        },
      });
    });
  });

  it.each(['day,day', 'day,hour'])('refuses group_by=%s with 422', async (groupBy) => {
    await expect(
      service.delivery(principal('platform', true), { group_by: groupBy }),
    ).rejects.toMatchObject({ status: 422, code: 'invalid_group_by' });
  });

  it('writes CSV with the window, the group columns and the figures in a fixed order', async () => {
    const csv = await service.toCsv({
      since: '2026-01-01T00:00:00.000Z',
      until: '2026-01-02T00:00:00.000Z',
      group_by: 'team',
      team: null,
      template: null,
      category: null,
      failures: [],
      rows: [
        {
          team: 'growth',
          ...figures({
            total: 3,
            delivered: 2,
            failed: 1,
            suppressed: 5,
            delivery_rate: 0.6667,
            p50_delivery_seconds: 1.5,
            p95_delivery_seconds: 2.95,
            segments: 4,
          }),
        },
      ],
      totals: figures(),
    });
    expect(csv).toBe(
      'since,until,team,total,scheduled,pending,queued,sent,delivered,failed,expired,canceled,' +
        'suppressed,delivery_rate,p50_delivery_seconds,p95_delivery_seconds,p50_handover_seconds,' +
        'p95_handover_seconds,segments\r\n' +
        '2026-01-01T00:00:00.000Z,2026-01-02T00:00:00.000Z,growth,3,0,0,0,0,2,1,0,0,5,0.6667,1.5,2.95,,,4\r\n',
    );
  });

  it('writes a report longer than one CSV slice whole, every row once and in order', async () => {
    const rows = Array.from({ length: 4_501 }, (_, i) => ({
      day: `d${String(i).padStart(4, '0')}`,
      ...figures({ total: i }),
    }));
    const csv = await service.toCsv({
      since: 's',
      until: 'u',
      group_by: 'day',
      team: null,
      template: null,
      category: null,
      failures: [],
      rows,
      totals: figures(),
    });
    const lines = csv.split('\r\n').slice(1, -1);
    expect(lines).toHaveLength(4_501);
    expect(lines.map((line) => line.split(',')[2])).toEqual(rows.map((row) => row.day));
  });
});
