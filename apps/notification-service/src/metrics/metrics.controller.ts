import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/auth.decorators';
import { MetricsService } from './metrics.service';
import { Operation } from '../common/openapi/operation.decorator';

@ApiTags('operations')
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Operation({
    id: 'getMetrics',
    summary: 'Prometheus metrics',
    textExamples: {
      'text/plain':
        '# HELP notify_message_status_total Message status changes by new status\n' +
        '# TYPE notify_message_status_total counter\n' +
        'notify_message_status_total{status="delivered"} 1170\n',
    },
  })
  @Get()
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description:
      'Prometheus text format 0.0.4 (the metrics are listed in docs/operations.md, Metrics)',
    content: { 'text/plain': { schema: { type: 'string', example: 'notify_sending_paused 0' } } },
  })
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
