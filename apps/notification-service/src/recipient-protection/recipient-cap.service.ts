import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { MessageCategory } from '../common/message-category';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import type { RedisClient } from '../redis/redis-connection';
import { REDIS, redisKey } from '../redis/redis.module';
import { TAKE_LUA } from './recipient-cap.lua';

/** One message to count against its number's cap. */
export interface CapItem {
  messageId: string;
  recipient: string;
  category: MessageCategory;
}

const TAKE_COMMAND = 'notifyRecipientCapTake';

type ScriptCall = (key: string, limit: number, windowMs: number, messageId: string) => unknown;

/**
 * The flood cap per number: at most `limit` messages to one number per window per category,
 * across every team, template and instance (config.protection.caps; null: no cap).
 *
 * Each number's log is one key, checked and counted by one script (recipient-cap.lua.ts): atomic
 * per number. The keys carry the stack's hash tag (redisKey), so on a cluster they all sit in the
 * stack's slot and a call's scripts can share one pipeline; a script never touches two numbers.
 * The number is hashed in the key, so Redis (SCAN, MONITOR, a dump) never shows it in clear.
 */
@Injectable()
export class RecipientCap {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {
    // defineCommand sends EVALSHA and falls back to EVAL on NOSCRIPT (a SCRIPT FLUSH, a restart),
    // in a pipeline too. The same name always carries the same script on a shared connection.
    redis.defineCommand(TAKE_COMMAND, { numberOfKeys: 1, lua: TAKE_LUA });
  }

  /**
   * For each item, whether the message may go (true) or is over its number's cap (false). Items
   * of a category without a cap are always true and cost no Redis call. One pipelined round trip
   * for all items. A message already counted in its window is allowed again without counting
   * twice. Rejects when Redis fails: the caller cannot know whether the cap holds.
   */
  async take(items: readonly CapItem[]): Promise<boolean[]> {
    const allowed = items.map(() => true);
    const capped: number[] = [];
    const pipeline = this.redis.pipeline();
    const script = (pipeline as unknown as Record<string, ScriptCall>)[TAKE_COMMAND];
    for (const [index, item] of items.entries()) {
      const cap = this.config.protection.caps[item.category];
      if (!cap) continue;
      capped.push(index);
      script.call(pipeline, this.key(item), cap.limit, cap.windowMs, item.messageId);
    }
    if (capped.length === 0) return allowed;

    const replies = (await pipeline.exec()) ?? [];
    for (const [n, index] of capped.entries()) {
      const [error, reply] = replies[n] ?? [new Error('no reply from Redis')];
      if (error) throw error;
      if (reply !== 1 && reply !== 0) {
        throw new Error(`Unexpected recipient cap script reply: ${JSON.stringify(reply)}`);
      }
      if (reply === 0) {
        allowed[index] = false;
        this.metrics.recipientCapRefusals.inc({ category: items[index].category });
      }
    }
    return allowed;
  }

  private key(item: CapItem): string {
    // 128 bits of the hash: two numbers sharing a count is out of reach.
    const number = createHash('sha256').update(item.recipient).digest('hex').slice(0, 32);
    return redisKey(this.config, 'recipient-cap', item.category, number);
  }
}
