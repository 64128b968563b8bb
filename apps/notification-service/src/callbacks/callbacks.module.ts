import { BullModule } from '@nestjs/bull';
import { TraceLinks } from '../tracing/trace-links.service';
import { type DynamicModule, Module } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { CallbackDeliveriesController } from './callback-deliveries.controller';
import { CallbackDispatcher } from './callback-dispatcher.service';
import { CallbackHttpClient } from './callback-http.client';
import { CallbackQueue } from './callback-queue.service';
import { CallbackSecretController } from './callback-secret.controller';
import { FailedCallbacksController } from './failed-callbacks.controller';
import { CallbackSender } from './callback-sender.service';
import { CallbackWorker } from './callback.worker';
import { CALLBACK_QUEUE } from './callbacks.constants';
import { CallbacksRepository } from './callbacks.repository';
import { CallbacksService } from './callbacks.service';

@Module({
  providers: [CallbacksRepository],
  exports: [CallbacksRepository],
})
class CallbacksStoreModule {}

/** API role: the team secret and the delivery log of a notification. */
@Module({
  imports: [CallbacksStoreModule],
  controllers: [CallbackSecretController, CallbackDeliveriesController, FailedCallbacksController],
  providers: [CallbacksService],
})
export class CallbacksApiModule {}

/** Worker role: owns the callback queue, its producer, its consumer and the dispatcher. */
@Module({
  imports: [CallbacksStoreModule, BullModule.registerQueue({ name: CALLBACK_QUEUE })],
  providers: [
    CallbackQueue,
    CallbackHttpClient,
    CallbackSender,
    CallbackWorker,
    CallbackDispatcher,
    TraceLinks,
  ],
  exports: [CallbackDispatcher],
})
export class CallbacksWorkerModule {}

/**
 * Status callbacks for whichever roles this process plays. The callbacks themselves are created by
 * a database trigger (migration 1764000000100), so the rest of the service does not call into here.
 */
@Module({})
export class CallbacksModule {
  static forRole(config: Pick<AppConfig, 'runsApi' | 'runsWorker'>): DynamicModule {
    return {
      module: CallbacksModule,
      imports: [
        ...(config.runsApi ? [CallbacksApiModule] : []),
        ...(config.runsWorker ? [CallbacksWorkerModule] : []),
      ],
    };
  }
}
