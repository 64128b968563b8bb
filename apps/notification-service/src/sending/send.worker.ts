import { InjectQueue } from '@nestjs/bull';
import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { Job, Queue } from 'bull';
import { AppConfig } from '../config/app-config';
import { runWithLogContext } from '../logging/log-context';
import { runInJobSpan } from '../tracing/job-trace';
import { SendService } from './send.service';
import { SEND_JOB, SEND_QUEUE, type SendJobData } from './sending.constants';

/**
 * Registers the send handler with the configured concurrency (a decorator would fix it at compile
 * time; one handler also keeps Bull's per-handler concurrency from adding up unnoticed).
 */
@Injectable()
export class SendWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SendWorker.name);

  constructor(
    @InjectQueue(SEND_QUEUE) private readonly queue: Queue<SendJobData>,
    private readonly sender: SendService,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    void this.queue
      .process(SEND_JOB, this.config.sending.concurrency, (job: Job<SendJobData>) =>
        runWithLogContext({ request_id: job.data.requestId, message_id: job.data.messageId }, () =>
          runInJobSpan('send message', job.data.trace, { message_id: job.data.messageId }, () =>
            this.sender.handle(job.data),
          ),
        ),
      )
      .catch((error: unknown) => this.logger.error(`Send worker stopped: ${String(error)}`));
    // A job only fails on an unexpected error (database down, a bug): the message stays in the
    // database and the sweeper plans it again, but someone should know.
    this.queue.on('failed', (job: Job<SendJobData>, error: Error) => {
      this.logger.error(`Send job ${job.id} failed: ${error.stack ?? error.message}`);
    });
    // Redis down: one line per outage from the Redis module, not one per reconnect attempt here.
    this.queue.on('error', () => undefined);
    this.logger.log(`Send worker started, concurrency ${this.config.sending.concurrency}`);
  }

  async onModuleDestroy(): Promise<void> {
    // Let jobs in flight finish and commit: a provider call cut off here is a send in doubt.
    await this.queue.close();
  }
}
