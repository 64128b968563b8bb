import {
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../config/app-config';

export const REDIS = Symbol('REDIS');

/** Keys of our own (throttle, pause flags) live under the stack's QUEUE_PREFIX too. */
export function redisKey(config: AppConfig, ...parts: string[]): string {
  return [config.queuePrefix, ...parts].join(':');
}

const CLIENT_OPTIONS = { maxRetriesPerRequest: 3, enableOfflineQueue: true };

/**
 * One line when the connection is lost and one when it is back, instead of ioredis's "Unhandled
 * error event" stack trace on every reconnect attempt (readiness reports the outage meanwhile).
 */
function watchConnection(redis: Redis): Redis {
  const logger = new Logger('Redis');
  let lost = false;
  redis.on('error', (error: Error) => {
    if (lost) return;
    lost = true;
    logger.warn(`Redis connection lost: ${error.message}`);
  });
  redis.on('ready', () => {
    if (!lost) return;
    lost = false;
    logger.log('Redis connection is back');
  });
  return redis;
}

@Injectable()
class RedisCloser implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        watchConnection(new Redis(config.redisUrl, CLIENT_OPTIONS)),
    },
    RedisCloser,
  ],
  exports: [REDIS],
})
export class RedisModule {}
