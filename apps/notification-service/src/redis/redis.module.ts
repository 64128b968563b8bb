import {
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { QueueOptions } from 'bull';
import { AppConfig } from '../config/app-config';
import { type ConnectionUse, createRedisConnection, type RedisClient } from './redis-connection';
import { stackKeyPrefix } from './stack-keys';

export const REDIS = Symbol('REDIS');

/** Keys of our own (throttle, pause flag, failed-auth counts) share the stack's prefix and slot. */
export function redisKey(config: AppConfig, ...parts: string[]): string {
  return [stackKeyPrefix(config.queuePrefix), ...parts].join(':');
}

/**
 * One line when the connection is lost and one when it is back, instead of ioredis's "Unhandled
 * error event" stack trace on every reconnect attempt (readiness reports the outage meanwhile).
 */
function watchConnection(redis: RedisClient): RedisClient {
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

const CLUSTER_START_WAIT_MS = 2000;

/** Resolves when `redis` is ready or after `ms`, whichever comes first; never rejects. */
function readyWithin(redis: RedisClient, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    timer.unref();
    redis.once('ready', done);
    function done(): void {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    }
  });
}

type BullConnectionType = Parameters<NonNullable<QueueOptions['createClient']>>[0];

const BULL_USES: Record<BullConnectionType, ConnectionUse> = {
  client: 'bull-client',
  subscriber: 'bull-subscriber',
  bclient: 'bull-blocking',
};

/**
 * Makes Bull's connections (the same factory as ours, so a cluster works for the queues too) and
 * closes them at shutdown: Bull leaves connections it did not make itself open. This module is
 * global, so Nest runs this hook after every queue's own close.
 */
@Injectable()
export class BullConnections implements OnApplicationShutdown {
  private readonly made = new Set<{ use: ConnectionUse; client: RedisClient }>();

  constructor(private readonly config: AppConfig) {}

  /** Bull's root options that depend on Redis: the hash-tagged prefix and the connections. */
  queueOptions(): Pick<QueueOptions, 'prefix' | 'createClient'> {
    return {
      prefix: stackKeyPrefix(this.config.queuePrefix),
      // Bull's own options (host, port, its retry strategy) describe a default it would have
      // made: REDIS_URL says where to connect, the factory how.
      createClient: (type) => {
        const use = BULL_USES[type];
        const client = createRedisConnection(this.config.redis, use);
        this.made.add({ use, client });
        // Bull stops listening for errors when its queue closes, and the connection lives on
        // until shutdown; the REDIS connection's watcher already says when Redis goes away.
        client.on('error', () => undefined);
        return client;
      },
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(
      [...this.made].map(async ({ use, client }) => {
        // A blocking connection may sit in BRPOPLPUSH for seconds: nothing on it to wait for.
        if (use === 'bull-blocking') client.disconnect();
        else await client.quit().catch(() => client.disconnect());
      }),
    );
    this.made.clear();
  }
}

@Injectable()
class RedisCloser implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

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
      useFactory: async (config: AppConfig) => {
        const redis = watchConnection(createRedisConnection(config.redis, 'commands'));
        // A cluster connection refuses commands until it has the slot map (see ConnectionUse):
        // give it a moment at start-up, but never hold the start up for Redis.
        if (config.redis.kind === 'cluster') await readyWithin(redis, CLUSTER_START_WAIT_MS);
        return redis;
      },
    },
    RedisCloser,
    BullConnections,
  ],
  exports: [REDIS, BullConnections],
})
export class RedisModule {}
