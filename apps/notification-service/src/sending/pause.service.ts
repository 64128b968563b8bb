import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import type { RedisClient } from '../redis/redis-connection';
import { REDIS, redisKey } from '../redis/redis.module';
import { DispatchService } from './dispatch.service';

export type PauseReason = 'insufficient_credits' | 'manual';

export interface PauseState {
  paused: boolean;
  reason: PauseReason | null;
  since: string | null;
  /** The operator's words for a manual pause. */
  note: string | null;
  /** Who paused: an API key id, `admin` for the bootstrap key, `system` for a credits pause. */
  paused_by: string | null;
}

export interface PauseDetail {
  note?: string | null;
  by?: string | null;
}

/**
 * Whether sending is paused, and why, shared by every instance through Redis. The Bull queue's
 * own global pause stops workers taking jobs; this record says who paused it, so the periodic
 * credits check only lifts a pause that credits caused.
 */
@Injectable()
export class PauseService {
  private readonly logger = new Logger(PauseService.name);
  private readonly key: string;

  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly dispatch: DispatchService,
    private readonly metrics: MetricsService,
    config: AppConfig,
  ) {
    this.key = redisKey(config, 'sending', 'pause');
    metrics.watchPause(() => this.state());
  }

  async state(): Promise<PauseState> {
    const raw = await this.redis.get(this.key);
    if (!raw) return { paused: false, reason: null, since: null, note: null, paused_by: null };
    const parsed = JSON.parse(raw) as {
      reason: PauseReason;
      since: string;
      note?: string | null;
      by?: string | null;
    };
    return {
      paused: true,
      reason: parsed.reason,
      since: parsed.since,
      note: parsed.note ?? null,
      paused_by: parsed.by ?? null,
    };
  }

  async pause(reason: PauseReason, detail: PauseDetail = {}): Promise<PauseState> {
    const since = new Date().toISOString();
    const record = { reason, since, note: detail.note ?? null, by: detail.by ?? 'system' };
    // NX: the first reason stands (a manual pause is not turned into a credits pause, which the
    // credits check would lift on its own).
    const set = await this.redis.set(this.key, JSON.stringify(record), 'NX');
    await this.dispatch.pause();
    if (set) {
      if (reason === 'insufficient_credits') {
        this.metrics.creditsExhausted.inc();
        // The alert: an operator must top up the provider account. Nothing is failed meanwhile.
        this.logger.error(
          'ALERT provider credits exhausted: sending paused, messages kept pending; it resumes when the account has credits again or on POST /v1/queue/resume',
        );
      } else {
        this.logger.warn(`Sending paused by an operator (${record.by})`);
      }
    }
    return this.state();
  }

  async resume(): Promise<PauseState> {
    const before = await this.state();
    await this.redis.del(this.key);
    await this.dispatch.resume();
    if (before.paused) this.logger.log(`Sending resumed (was paused: ${before.reason})`);
    return this.state();
  }
}
