import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { databaseOptions } from '../../apps/notification-service/src/database/database-options';
import { createDatabase, dropDatabase } from '../../tools/stack/database';
import { databasePrefix, databaseUrl, PG_ADMIN_URL, templateDatabase } from '../support/test-env';

/** A database of its own for one spec file: a clone of the run's migrated template. */
export interface ScratchDatabase {
  db: DataSource;
  drop(): Promise<void>;
}

/** `tag` names the spec in the database's name, which helps when a run leaves one behind. */
export async function cloneTemplateDatabase(tag: string): Promise<ScratchDatabase> {
  const name = `${databasePrefix()}_${tag}_${randomBytes(4).toString('hex')}`;
  await createDatabase(PG_ADMIN_URL, name, templateDatabase());
  const db = new DataSource(databaseOptions(databaseUrl(name)));
  await db.initialize();
  return {
    db,
    drop: async () => {
      await db.destroy();
      await dropDatabase(PG_ADMIN_URL, name);
    },
  };
}

/** The SQLSTATE a statement failed with, or undefined when it succeeded. */
export async function sqlState(work: Promise<unknown>): Promise<string | undefined> {
  try {
    await work;
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}
