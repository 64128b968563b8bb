import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { runMigrations } from '../../apps/notification-service/src/database/ensure-database';
import { databaseUrl, PG_ADMIN_URL, templateDatabase } from './test-env';

/**
 * Once per run: a database with every migration applied, which each test file then clones
 * (CREATE DATABASE … TEMPLATE) in milliseconds. Migrations are thereby tested on every run too.
 */
export default async function globalSetup(): Promise<void> {
  process.env.NOTIFY_TEST_RUN_ID = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const admin = new Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${templateDatabase()}"`);
  } finally {
    await admin.end();
  }
  await runMigrations(databaseUrl(templateDatabase()));
}
