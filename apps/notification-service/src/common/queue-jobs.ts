import type { Queue } from 'bull';

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
