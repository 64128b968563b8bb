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

@ApiTags('reports')
@ApiBearerAuth()
@Controller('v1/reports')
export class ReportsController {
  constructor(private readonly reports: ReportsService) {}

  @Get('delivery')
  @RequireScope('reports:read')
  @ApiOperation({
    summary: 'Delivery figures of messages submitted in a window, grouped by template, team or day',
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({
    type: DeliveryReport,
    description:
      'JSON by default; format=csv answers text/csv (attachment delivery-report.csv) with the rows only',
  })
  @ApiBadRequestResponse({
    description: 'validation_failed: bad since/until/group_by/format/team/template',
  })
  @ApiForbiddenResponse({
    description: 'Missing reports:read scope, or a non-admin key naming another team',
  })
  @ApiUnprocessableEntityResponse({
    description:
      'invalid_window (until ≤ since), window_too_large (> 366 days), invalid_group_by, ' +
      `too_many_buckets (> ${MAX_BUCKETS}), or report_too_large: more than ` +
      `${MAX_REPORT_ROWS.toLocaleString('en-US')} rows (template/team combinations × time ` +
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
