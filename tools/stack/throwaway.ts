import { randomBytes } from 'node:crypto';
import { databaseUrl, dropDatabase } from './database';
import { deleteRedisKeys, stackKeysPattern } from './redis';

/** Sortable by time, unique across concurrent runs: for names of throwaway databases and prefixes. */
export function uniqueId(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/** A database and a Redis key prefix of one's own, removed together at the end. */
export interface Throwaway {
  databaseName: string;
  databaseUrl: string;
  queuePrefix: string;
  /** Drops the database and deletes every Redis key of the stack. */
  remove(): Promise<void>;
}

/**
 * Names only: nothing is created here, because some callers clone a migrated template and others
 * leave it to the service, which creates and migrates a missing database at start-up.
 */
export function throwaway(options: {
  adminUrl: string;
  redisUrl: string;
  databaseName: string;
  queuePrefix: string;
}): Throwaway {
  const { adminUrl, redisUrl, databaseName, queuePrefix } = options;
  return {
    databaseName,
    databaseUrl: databaseUrl(adminUrl, databaseName),
    queuePrefix,
    remove: async () => {
      await dropDatabase(adminUrl, databaseName);
      await deleteRedisKeys(redisUrl, stackKeysPattern(queuePrefix));
    },
  };
}
