import { InjectQueue } from '@nestjs/bull';
import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { Job, Queue } from 'bull';
import { runInRootSpan } from '../tracing/job-trace';
import { CallbackSender } from './callback-sender.service';
import {
  CALLBACK_CONCURRENCY,
  CALLBACK_JOB,
  CALLBACK_QUEUE,
  type CallbackJobData,
} from './callbacks.constants';

/** Consumes the callback queue: one handler, registered with its concurrency at start-up. */
@Injectable()
export class CallbackWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(CallbackWorker.name);

  constructor(
    @InjectQueue(CALLBACK_QUEUE) private readonly queue: Queue<CallbackJobData>,
    private readonly sender: CallbackSender,
  ) {}

  onApplicationBootstrap(): void {
    void this.queue
      .process(CALLBACK_JOB, CALLBACK_CONCURRENCY, async (job: Job<CallbackJobData>) => {
        await runInRootSpan('status callback', { delivery_id: String(job.data.deliveryId) }, () =>
          this.sender.handle(job.data),
        );
      })
      .catch((error: unknown) => this.logger.error(`Callback worker stopped: ${String(error)}`));
    // Redis down: one line per outage from the Redis module, not one per reconnect attempt here.
    this.queue.on('error', () => undefined);
    this.logger.log(`Callback worker started, concurrency ${CALLBACK_CONCURRENCY}`);
  }

  async onModuleDestroy(): Promise<void> {
    // Requests in flight finish and get recorded; one cut off here would be sent again later.
    await this.queue.close();
  }
}
