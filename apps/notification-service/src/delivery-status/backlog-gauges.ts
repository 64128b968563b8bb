import { Injectable, type OnModuleInit } from '@nestjs/common';
import { MetricsService, type ScrapedGauges } from '../metrics/metrics.service';
import { MessageQueriesRepository } from './message-queries.repository';

/**
 * The backlog gauges of /metrics, read from the database at each scrape through the same backlog
 * query GET /v1/queue answers from, so the two never count differently.
 */
@Injectable()
export class BacklogGauges implements OnModuleInit {
  constructor(
    private readonly queries: MessageQueriesRepository,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.metrics.watchBacklog(() => this.read());
  }

  async read(): Promise<ScrapedGauges> {
    const backlog = await this.queries.backlog();
    return {
      byStatus: backlog.byStatus,
      oldestPendingSeconds: backlog.oldestPendingSeconds ?? 0,
      inRetry: backlog.inRetry,
      scheduledOverdueSeconds: backlog.scheduledOverdueSeconds ?? 0,
    };
  }
}
