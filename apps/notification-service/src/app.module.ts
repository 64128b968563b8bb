import { BullModule } from '@nestjs/bull';
import { type DynamicModule, Module, type ModuleMetadata } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { PeriodicJobsModule } from './common/periodic-jobs';
import { QUEUE_SETTINGS } from './common/queue-jobs';
import { AuthModule } from './auth/auth.module';
import { CacheModule } from './cache/cache.module';
import { CallbacksModule } from './callbacks/callbacks.module';
import { AllExceptionsFilter } from './common/errors/all-exceptions.filter';
import type { AppConfig } from './config/app-config';
import { AppConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './logging/logging.module';
import { MessagesModule } from './messages/messages.module';
import { MetricsModule } from './metrics/metrics.module';
import { NotificationsModule } from './notifications/notifications.module';
import { OperationsModule } from './operations/operations.module';
import { ReconcileModule } from './reconcile/reconcile.module';
import { BullConnections, RedisModule } from './redis/redis.module';
import { ReportsModule } from './reports/reports.module';
import { SendingModule } from './sending/sending.module';
import { SuppressionsModule } from './suppressions/suppressions.module';
import { TeamsModule } from './teams/teams.module';
import { TemplatesModule } from './templates/templates.module';
import { WebhooksModule } from './webhooks/webhooks.module';

/**
 * The whole service for one AppConfig. APP_ROLE decides what runs here: `api` serves HTTP and
 * enqueues, `worker` sends and runs the periodic jobs, `all` does both. Health and metrics are
 * served by every role so each process can be probed and scraped.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    const imports: ModuleMetadata['imports'] = [
      AppConfigModule.forRoot(config),
      LoggingModule,
      DatabaseModule,
      RedisModule,
      CacheModule,
      MetricsModule,
      BullModule.forRootAsync({
        inject: [BullConnections],
        useFactory: (connections: BullConnections) => ({
          ...connections.queueOptions(),
          settings: QUEUE_SETTINGS,
        }),
      }),
      ScheduleModule.forRoot(),
      PeriodicJobsModule,
      AuthModule.forRole(config.runsApi),
      HealthModule,
      CallbacksModule.forRole(config),
    ];
    if (config.runsApi) {
      imports.push(
        TemplatesModule,
        NotificationsModule,
        MessagesModule,
        OperationsModule,
        WebhooksModule,
        ReportsModule,
        SuppressionsModule,
        TeamsModule,
      );
    }
    if (config.runsWorker) {
      imports.push(SendingModule, ReconcileModule);
    }
    return {
      module: AppModule,
      imports,
      providers: [{ provide: APP_FILTER, useClass: AllExceptionsFilter }],
    };
  }
}
