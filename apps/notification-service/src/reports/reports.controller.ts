import { Controller, Get, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal, RequireScope } from '../auth/auth.decorators';
import type { Principal } from '../auth/scopes';
import { MAX_BUCKETS } from './report-groups';
import { MAX_REPORT_ROWS } from './report-size';
import { DeliveryReport, DeliveryReportQuery } from './reports.dto';
import { ReportsService } from './reports.service';
import { FIGURES } from '../common/openapi/examples';
import { Operation } from '../common/openapi/operation.decorator';

@ApiTags('reports')
@ApiBearerAuth()
@Controller('v1/reports')
export class ReportsController {
  constructor(private readonly reports: ReportsService) {}

  @Operation({
    id: 'getDeliveryReport',
    errors: {
      422: [
        'invalid_window',
        'window_too_large',
        'invalid_group_by',
        'too_many_buckets',
        'report_too_large',
      ],
      503: ['report_timeout'],
    },
    example: {
      since: '2026-11-30T00:00:00.000Z',
      until: '2026-12-01T00:00:00.000Z',
      group_by: 'template',
      team: 'checkout',
      template: null,
      category: null,
      rows: [{ ...FIGURES, template: 'order_shipped' }],
      totals: FIGURES,
      failures: [{ error_code: 'invalid_number', failed: 15, expired: 0 }],
    },
    textExamples: {
      'text/csv':
        'since,until,template,total,scheduled,pending,queued,sent,delivered,failed,expired,' +
        'canceled,suppressed,delivery_rate,p50_delivery_seconds,p95_delivery_seconds,' +
        'p50_handover_seconds,p95_handover_seconds,segments\r\n' +
        '2026-11-30T00:00:00.000Z,2026-12-01T00:00:00.000Z,order_shipped,1204,0,0,0,12,1170,' +
        '15,3,0,4,0.985,3.1,7.4,0.4,1.9,1320\r\n',
    },
  })
  @Get('delivery')
  @RequireScope('reports:read')
  @ApiOperation({
    summary:
      'Delivery figures of messages submitted in a window, grouped by template, team, category, ' +
      'day or hour',
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({
    type: DeliveryReport,
    description:
      'JSON by default; format=csv answers text/csv (attachment delivery-report.csv) with the rows only',
  })
  @ApiBadRequestResponse({
    description: 'validation_failed: bad since/until/group_by/format/team/template/category',
  })
  @ApiForbiddenResponse({
    description: 'Missing reports:read scope, or a non-admin key naming another team',
  })
  @ApiUnprocessableEntityResponse({
    description:
      'invalid_window (until ≤ since), window_too_large (> 366 days), invalid_group_by, ' +
      `too_many_buckets (> ${MAX_BUCKETS}), or report_too_large: more than ` +
      `${MAX_REPORT_ROWS.toLocaleString('en-US')} rows (template/team/category combinations × time ` +
      'buckets), refused before the figures are computed; details give rows, max_rows and ' +
      'how to narrow',
  })
  async delivery(
    @CurrentPrincipal() principal: Principal,
    @Query() query: DeliveryReportQuery,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<DeliveryReport | string> {
    const report = await this.reports.delivery(principal, query);
    if (query.format !== 'csv') return report;
    void reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="delivery-report.csv"');
    return this.reports.toCsv(report);
  }
}
