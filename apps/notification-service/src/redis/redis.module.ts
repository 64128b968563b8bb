import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../config/app-config';

export const REDIS = Symbol('REDIS');

/** Keys of our own (throttle, pause flags) live under the stack's QUEUE_PREFIX too. */
export function redisKey(config: AppConfig, ...parts: string[]): string {
  return [config.queuePrefix, ...parts].join(':');
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
        new Redis(config.redisUrl, { maxRetriesPerRequest: 3, enableOfflineQueue: true }),
    },
    RedisCloser,
  ],
  exports: [REDIS],
})
export class RedisModule {}
