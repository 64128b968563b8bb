// One by one, not the kit's index: see test-env.ts.
import { dropDatabasesStartingWith } from '../../tools/stack/database';
import { deleteRedisKeys, stackKeysPattern } from '../../tools/stack/redis';
import { databasePrefix, PG_ADMIN_URL, REDIS_URL, redisPrefix } from './test-env';

/** Drops every database and Redis key this run created, whatever the tests left behind. */
export default async function globalTeardown(): Promise<void> {
  await dropDatabasesStartingWith(PG_ADMIN_URL, databasePrefix());
  await deleteRedisKeys(REDIS_URL, stackKeysPattern(`${redisPrefix()}*`));
}
