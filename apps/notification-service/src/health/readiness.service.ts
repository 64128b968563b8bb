import { Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import {
  HealthCheckService,
  type HealthIndicatorResult,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { raceTimeout } from '../common/race-timeout';
import type { RedisClient } from '../redis/redis-connection';
import { REDIS } from '../redis/redis.module';

const TIMEOUT_MS = 1000;

export interface DependencyState {
  status: 'up' | 'down';
  message?: string;
}

/** Asks each dependency once, all at the same time, each within a second (@nestjs/terminus). */
@Injectable()
export class ReadinessService {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    @Inject(REDIS) private readonly redis: RedisClient,
  ) {}

  async check(): Promise<Record<string, DependencyState>> {
    try {
      const result = await this.health.check([
        () => this.database.pingCheck('database', { timeout: TIMEOUT_MS }),
        () => this.redisCheck(),
      ]);
      return states(result.details);
    } catch (error) {
      // Terminus answers "not healthy" by throwing, with every dependency's state in the body.
      if (!(error instanceof ServiceUnavailableException)) throw error;
      return states((error.getResponse() as { details: HealthIndicatorResult }).details);
    }
  }

  private async redisCheck(): Promise<HealthIndicatorResult<'redis'>> {
    const session = this.indicators.check('redis');
    try {
      const answer: string = await raceTimeout(this.redis.ping(), TIMEOUT_MS);
      if (answer === 'PONG') return session.up();
      return session.down({
        message: answer === 'timeout' ? `no answer within ${TIMEOUT_MS} ms` : `answered ${answer}`,
      });
    } catch (error) {
      return session.down({ message: error instanceof Error ? error.message : String(error) });
    }
  }
}

/** Only what the answer promises: up or down, and why when down. */
function states(details: HealthIndicatorResult): Record<string, DependencyState> {
  return Object.fromEntries(
    Object.entries(details).map(([name, { status, message }]) => [
      name,
      status === 'up'
        ? { status: 'up' }
        : { status: 'down', message: typeof message === 'string' ? message : 'down' },
    ]),
  );
}
