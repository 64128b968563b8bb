import { Inject, Injectable } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import { AppConfig } from '../config/app-config';
import type { RedisClient } from '../redis/redis-connection';
import { REDIS, redisKey } from '../redis/redis.module';
import { currentTraceCarrier } from './job-trace';

/**
 * Where the trace of a send is kept for what comes later (the provider's webhooks): keyed by the
 * provider's message id, for as long as a status may still arrive. Only with tracing on: without
 * a recording span there is nothing to keep and no Redis call is made.
 */
@Injectable()
export class TraceLinks {
  private readonly ttlSeconds: number;

  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly config: AppConfig,
  ) {
    this.ttlSeconds = Math.ceil(config.reconcile.maxAgeMs / 1000);
  }

  /** Keeps the active span (a send) for the webhooks (by provider id) and callbacks (by ours). */
  async remember(providerMessageId: string, messageId: string): Promise<void> {
    if (!trace.getActiveSpan()?.isRecording()) return;
    const { traceparent } = currentTraceCarrier();
    if (!traceparent) return;
    await this.redis
      .multi()
      .set(this.key(providerMessageId), traceparent, 'EX', this.ttlSeconds)
      .set(this.key('message', messageId), traceparent, 'EX', this.ttlSeconds)
      .exec();
  }

  async recallForMessage(messageId: string): Promise<string | undefined> {
    if (!trace.getActiveSpan()?.isRecording()) return undefined;
    return (await this.redis.get(this.key('message', messageId))) ?? undefined;
  }

  async recall(providerMessageId: unknown): Promise<string | undefined> {
    if (typeof providerMessageId !== 'string' || !trace.getActiveSpan()?.isRecording()) {
      return undefined;
    }
    return (await this.redis.get(this.key(providerMessageId))) ?? undefined;
  }

  private key(...parts: string[]): string {
    return redisKey(this.config, 'trace', ...parts);
  }
}
