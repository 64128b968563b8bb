import type { RedisClient } from '../redis/redis-connection';

/** The provider failing as a whole (5xx, no answer, refused connection), not one message. */
export const PROVIDER_FAILURE_OUTCOMES: ReadonlySet<string> = new Set([
  'server_error',
  'timeout',
  'network_error',
]);

/** How far back an account's error rate looks: the provider-error alert's window too. */
export const CALL_WINDOW_MS = 5 * 60_000;
const BUCKET_MS = 10_000;
const BUCKETS = CALL_WINDOW_MS / BUCKET_MS;

export interface CallCounts {
  /** Calls to the provider that ended (answered or not) within the window. */
  calls: number;
  /** Of those, the ones that ended in a whole-provider failure. */
  failures: number;
  /** The latest call that did not end well: its code and when (ms since the epoch). */
  lastError: string | null;
  lastErrorAt: number | null;
  /** When the latest call that the provider answered well ended. */
  lastOkAt: number | null;
}

/**
 * Each account's recent provider calls and failures, counted in Redis so that whoever answers
 * GET /v1/queue (an api process sends nothing itself) sees the calls of every worker. One hash
 * per account (a Redis Cluster keeps it in one slot), a field per 10 s bucket; counting is one
 * fire-and-forget round trip per call, never on the send's path to an answer.
 */
export class ProviderCallLog {
  private readonly pruned = new Map<string, number>();

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly now: () => number = Date.now,
  ) {}

  async record(account: string, outcome: string): Promise<void> {
    const bucket = Math.floor(this.now() / BUCKET_MS);
    const key = this.key(account);
    const write = this.redis.multi().hincrby(key, `${bucket}:calls`, 1);
    if (PROVIDER_FAILURE_OUTCOMES.has(outcome)) write.hincrby(key, `${bucket}:failures`, 1);
    if (outcome === 'ok') write.hset(key, 'last_ok_at', this.now());
    else write.hset(key, 'last_error', outcome, 'last_error_at', this.now());
    // An account with no calls for a whole window needs no history.
    write.pexpire(key, CALL_WINDOW_MS + BUCKET_MS);
    await write.exec();
    if (this.pruned.get(account) !== bucket) {
      this.pruned.set(account, bucket);
      await this.prune(key, bucket);
    }
  }

  async counts(account: string): Promise<CallCounts> {
    const fields = await this.redis.hgetall(this.key(account));
    const first = Math.floor(this.now() / BUCKET_MS) - BUCKETS + 1;
    const counts: CallCounts = {
      calls: 0,
      failures: 0,
      lastError: fields.last_error ?? null,
      lastErrorAt: instant(fields.last_error_at),
      lastOkAt: instant(fields.last_ok_at),
    };
    for (const [field, value] of Object.entries(fields)) {
      const [bucket, what] = field.split(':');
      if (Number(bucket) < first || (what !== 'calls' && what !== 'failures')) continue;
      counts[what] += Number(value) || 0;
    }
    return counts;
  }

  /** Once per bucket and process: drops the buckets that fell out of the window. */
  private async prune(key: string, bucket: number): Promise<void> {
    const stale = (await this.redis.hkeys(key)).filter(
      (field) => field.includes(':') && Number(field.split(':')[0]) <= bucket - BUCKETS,
    );
    if (stale.length > 0) await this.redis.hdel(key, ...stale);
  }

  private key(account: string): string {
    return `${this.prefix}:${account}`;
  }
}

function instant(value: string | undefined): number | null {
  const ms = Number(value);
  return value && Number.isFinite(ms) ? ms : null;
}
