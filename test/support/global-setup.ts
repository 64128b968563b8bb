import { runMigrations } from '../../apps/notification-service/src/database/ensure-database';
// One by one, not the kit's index: see test-env.ts.
import { ensureConsoleBuilt } from '../../tools/stack/console';
import { createDatabase } from '../../tools/stack/database';
import { uniqueId } from '../../tools/stack/throwaway';
import { databaseUrl, PG_ADMIN_URL, templateDatabase } from './test-env';

/**
 * Once per run: a database with every migration applied, which each test file then clones
 * (CREATE DATABASE … TEMPLATE) in milliseconds. Migrations are thereby tested on every run too.
 */
export default async function globalSetup(): Promise<void> {
  process.env.NOTIFY_TEST_RUN_ID = uniqueId();
  // The service serves the web console from its build; the browser tests open it.
  ensureConsoleBuilt();
  await createDatabase(PG_ADMIN_URL, templateDatabase());
  await runMigrations(databaseUrl(templateDatabase()));
}
