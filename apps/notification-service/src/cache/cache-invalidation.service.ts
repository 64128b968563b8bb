import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { createRedisConnection, type RedisClient } from '../redis/redis-connection';
import { REDIS, redisKey } from '../redis/redis.module';
import {
  CachesByTopic,
  type InvalidatedCache,
  type InvalidatedCacheOptions,
  type InvalidationFeed,
  type RowCaches,
} from './invalidated-cache';

interface Invalidation {
  topic: string;
  prefix: string;
  from: string;
}

/**
 * Caches of database rows shared by every instance's invalidations: a change made through one
 * instance (a key revoked, a template edited) is published on one Redis channel and every
 * instance forgets the entries at once. While the channel is not heard, entries fall back to a
 * short lifetime (see InvalidatedCache).
 */
@Injectable()
export class CacheInvalidation
  implements RowCaches, InvalidationFeed, OnModuleInit, OnApplicationShutdown
{
  private readonly logger = new Logger(CacheInvalidation.name);
  private readonly caches = new CachesByTopic(this);
  private readonly channel: string;
  private readonly instance = randomUUID();
  private subscriber: RedisClient | undefined;
  listening = false;
  epoch = 0;

  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly config: AppConfig,
  ) {
    this.channel = redisKey(config, 'cache-invalidation');
  }

  /** The cache of `topic`; the same one for every caller. */
  cache<V>(topic: string, options?: InvalidatedCacheOptions): InvalidatedCache<V> {
    return this.caches.cache(topic, options);
  }

  /**
   * Forgets `topic`'s entries starting with `prefix` here at once, and on every other instance
   * as soon as they hear it. A failed publish is logged: the others then keep the entry until
   * its lifetime ends.
   */
  async invalidate(topic: string, prefix: string): Promise<void> {
    this.caches.invalidate(topic, prefix);
    const message: Invalidation = { topic, prefix, from: this.instance };
    await this.redis.publish(this.channel, JSON.stringify(message)).catch((error: unknown) => {
      this.logger.warn(`Could not publish a cache invalidation (${topic}): ${String(error)}`);
    });
  }

  onModuleInit(): void {
    const subscriber = createRedisConnection(this.config.redis, 'subscriber');
    this.subscriber = subscriber;
    subscriber.on('message', (channel: string, payload: string) => {
      if (channel === this.channel) this.apply(payload);
    });
    subscriber.on('ready', () => {
      subscriber.subscribe(this.channel).then(
        () => {
          this.listening = true;
        },
        () => this.deaf(),
      );
    });
    subscriber.on('close', () => this.deaf());
    // Reconnects on its own; readiness and the main connection report Redis outages.
    subscriber.on('error', () => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    const subscriber = this.subscriber;
    if (!subscriber) return;
    this.deaf();
    await subscriber.quit().catch(() => subscriber.disconnect());
  }

  private deaf(): void {
    if (!this.listening) return;
    this.listening = false;
    this.epoch++;
  }

  private apply(payload: string): void {
    try {
      const message = JSON.parse(payload) as Invalidation;
      if (message.from === this.instance) return;
      this.caches.invalidate(message.topic, message.prefix);
    } catch {
      // Not ours: nothing else publishes on this channel.
    }
  }
}
