/** Names shared by the global setup, the harness and the teardown of one `npm test` run. */
// The kit's modules one by one, not its index: jest loads the global setup and teardown without
// its module mapper, so nothing here may reach the apps' `@app/...` imports.
import { DEFAULT_PG_ADMIN_URL, databaseUrl as urlOf } from '../../tools/stack/database';
import { DEFAULT_REDIS_URL } from '../../tools/stack/redis';

export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? DEFAULT_PG_ADMIN_URL;
export const REDIS_URL = process.env.TEST_REDIS_URL ?? DEFAULT_REDIS_URL;

export function runId(): string {
  const id = process.env.NOTIFY_TEST_RUN_ID;
  if (!id) throw new Error('NOTIFY_TEST_RUN_ID is not set: run the e2e tests through jest');
  return id;
}

export function databaseUrl(name: string): string {
  return urlOf(PG_ADMIN_URL, name);
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
