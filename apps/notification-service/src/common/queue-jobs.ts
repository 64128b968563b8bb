import type { AdvancedSettings, Queue } from 'bull';

/**
 * Lock and stall detection of every queue. A job taken by a process that then dies stays
 * "active" under that process's lock, and the sweeper, seeing the job in Redis, leaves it alone:
 * with Bull's defaults (30 s lock, stall check every 30 s) such a message sat unsent for 30–60 s
 * after a crash. A 5 s lock, renewed every 2.5 s, checked every 2 s, hands it back within ~7 s.
 * A live process whose event loop stalls for more than 5 s may see its job run again elsewhere;
 * the database claim keeps that from becoming a second send.
 */
export const QUEUE_SETTINGS: AdvancedSettings = {
  lockDuration: 5000,
  lockRenewTime: 2500,
  stalledInterval: 2000,
};

/**
 * Those of `refs` whose Bull job is not in Redis, asked in one round trip. The database says the
 * work is due, so a missing job means Redis lost it (flush, restart, crash before enqueue).
 */
export async function withoutJob<T>(
  queue: Queue,
  refs: T[],
  jobIdOf: (ref: T) => string,
): Promise<T[]> {
  if (refs.length === 0) return [];
  const pipeline = queue.client.pipeline();
  for (const ref of refs) pipeline.exists(queue.toKey(jobIdOf(ref)));
  const results = (await pipeline.exec()) ?? [];
  return refs.filter((_, i) => results[i]?.[1] !== 1);
}
