import { Inject, Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import type Redis from 'ioredis';
import { REDIS } from '../redis/redis.module';

const TIMEOUT_MS = 1000;

/** Redis answers PING within a second, or it is reported down with the reason. */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  async check(key: string): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check(key);
    try {
      const answer = await Promise.race([
        this.redis.ping(),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`timeout after ${TIMEOUT_MS} ms`)), TIMEOUT_MS).unref(),
        ),
      ]);
      return answer === 'PONG' ? indicator.up() : indicator.down({ message: String(answer) });
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }
}
