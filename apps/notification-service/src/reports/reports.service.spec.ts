import type { Principal, Scope } from '../auth/scopes';
import { ForbiddenError, ServiceUnavailableError } from '../common/errors/api-error';
import type { DeliveryFigures } from './reports.dto';
import type { DeliveryFilter, ReportsRepository } from './reports.repository';
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
    delivery_rate: null,
    p50_delivery_seconds: null,
    p95_delivery_seconds: null,
    segments: 0,
    ...overrides,
  };
}

function principal(team: string, isAdmin = false): Principal {
  return { keyId: 'k1', team, scopes: new Set<Scope>(['reports:read']), isAdmin };
}

describe(ReportsService.name, () => {
  let calls: DeliveryFilter[];
  let result: Awaited<ReturnType<ReportsRepository['delivery']>>;
  let failure: Error | undefined;
  let service: ReportsService;

  beforeEach(() => {
    calls = [];
    failure = undefined;
    result = { groups: [], totals: figures() };
    const repository = {
      delivery: (filter: DeliveryFilter) => {
        calls.push(filter);
        return failure === undefined ? Promise.resolve(result) : Promise.reject(failure);
      },
    };
    service = new ReportsService(repository as unknown as ReportsRepository);
  });

  it('forces a team key onto its own team', async () => {
    const report = await service.delivery(principal('payments'), {});
    expect(calls[0]).toMatchObject({ team: 'payments', template: null, groupBy: 'template' });
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
      [null, 'template'],
      ['growth', 'day'],
    ]);
  });

  it('names each row by its group and echoes the applied window and filters', async () => {
    result = {
      groups: [{ key: '2026-01-01', figures: figures({ total: 2, delivered: 2 }) }],
      totals: figures({ total: 2, delivered: 2 }),
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
      rows: [{ day: '2026-01-01', ...figures({ total: 2, delivered: 2 }) }],
      totals: figures({ total: 2, delivered: 2 }),
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

  it('writes CSV with the group column first and the figures in a fixed order', () => {
    const csv = service.toCsv({
      since: '2026-01-01T00:00:00.000Z',
      until: '2026-01-02T00:00:00.000Z',
      group_by: 'team',
      team: null,
      template: null,
      rows: [
        {
          team: 'growth',
          ...figures({
            total: 3,
            delivered: 2,
            failed: 1,
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
      'team,total,scheduled,pending,queued,sent,delivered,failed,expired,canceled,' +
        'delivery_rate,p50_delivery_seconds,p95_delivery_seconds,segments\r\n' +
        'growth,3,0,0,0,0,2,1,0,0,0.6667,1.5,2.95,4\r\n',
    );
  });
});
