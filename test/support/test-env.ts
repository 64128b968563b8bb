/** Names shared by the global setup, the harness and the teardown of one `npm test` run. */
export const PG_ADMIN_URL =
  process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function runId(): string {
  const id = process.env.NOTIFY_TEST_RUN_ID;
  if (!id) throw new Error('NOTIFY_TEST_RUN_ID is not set: run the e2e tests through jest');
  return id;
}

export function databaseUrl(name: string): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Every database of this run starts with this; the teardown drops them all. */
export function databasePrefix(): string {
  return `notify_test_${runId()}`;
}

export function templateDatabase(): string {
  return `${databasePrefix()}_template`;
}

/** Every Redis key of this run starts with this; the teardown deletes them all. */
export function redisPrefix(): string {
  return `notify-test-${runId()}`;
}
