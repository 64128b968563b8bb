import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/scopes';
import { ForbiddenError, ServiceUnavailableError } from '../common/errors/api-error';
import { toCsv } from './csv';
import { resolveWindow } from './report-window';
import type {
  DeliveryFigures,
  DeliveryReport,
  DeliveryReportQuery,
  DeliveryReportRow,
  ReportGroup,
} from './reports.dto';
import { ReportsRepository } from './reports.repository';
import { MESSAGE_STATUSES } from '../delivery-status/message-status';

/** Column order of the figures, shared by the CSV header and its lines. */
const FIGURE_COLUMNS = [
  'total',
  ...MESSAGE_STATUSES,
  'delivery_rate',
  'p50_delivery_seconds',
  'p95_delivery_seconds',
  'segments',
] as const satisfies readonly (keyof DeliveryFigures)[];

const QUERY_CANCELED = '57014';

@Injectable()
export class ReportsService {
  constructor(private readonly reports: ReportsRepository) {}

  async delivery(principal: Principal, query: DeliveryReportQuery): Promise<DeliveryReport> {
    const team = this.visibleTeam(principal, query.team);
    const groupBy = query.group_by ?? 'template';
    const window = resolveWindow(query);
    const template = query.template ?? null;

    const aggregate = await this.reports
      .delivery({ ...window, team, template, groupBy })
      .catch((error: unknown) => {
        if ((error as { code?: unknown }).code === QUERY_CANCELED) {
          throw new ServiceUnavailableError(
            'report_timeout',
            'The report took too long to compute; narrow the window or filter by team or template',
          );
        }
        throw error;
      });

    return {
      since: window.since.toISOString(),
      until: window.until.toISOString(),
      group_by: groupBy,
      team,
      template,
      rows: aggregate.groups.map((g): DeliveryReportRow => ({ [groupBy]: g.key, ...g.figures })),
      totals: aggregate.totals,
    };
  }

  /** The report's rows as CSV: the group key column, then the figures, no totals line. */
  toCsv(report: DeliveryReport): string {
    const key: ReportGroup = report.group_by;
    return toCsv(
      [key, ...FIGURE_COLUMNS],
      report.rows.map((row) => [row[key], ...FIGURE_COLUMNS.map((column) => row[column])]),
    );
  }

  /**
   * Admin keys may look at any team or all of them; other keys only at their own. Naming another
   * team is refused rather than silently narrowed, so a caller never mistakes its own team's
   * figures for the ones it asked for.
   */
  private visibleTeam(principal: Principal, requested: string | undefined): string | null {
    if (principal.isAdmin) return requested ?? null;
    if (requested !== undefined && requested !== principal.team) {
      throw new ForbiddenError(
        `This API key belongs to team ${principal.team} and can only report on that team`,
        { team: principal.team, requested_team: requested },
      );
    }
    return principal.team;
  }
}
