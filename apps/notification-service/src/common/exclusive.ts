import type { DataSource } from 'typeorm';

/** Lock ids of the periodic jobs: each runs on one instance at a time across the fleet. */
export const LOCKS = {
  sweeper: 7_246_100_010,
  credits: 7_246_100_011,
  reconcile: 7_246_100_012,
  callbacks: 7_246_100_013,
  claims: 7_246_100_014,
  idempotency: 7_246_100_015,
} as const;

/**
 * Runs `work` only if this process gets the PostgreSQL advisory lock `lockId`; otherwise another
 * instance is doing it right now and this call returns `undefined` at once.
 */
export async function runExclusive<T>(
  db: DataSource,
  lockId: number,
  work: () => Promise<T>,
): Promise<T | undefined> {
  const runner = db.createQueryRunner();
  await runner.connect();
  try {
    const [row] = (await runner.query('SELECT pg_try_advisory_lock($1) AS ok', [lockId])) as {
      ok: boolean;
    }[];
    if (!row?.ok) return undefined;
    try {
      return await work();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [lockId]);
    }
  } finally {
    await runner.release();
  }
}
