import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { databaseOptions } from './database-options';

/** Any constant works: it only has to be the same in every instance of the service. */
const MIGRATION_LOCK_ID = 7_246_100_001;

/**
 * Creates the database named in `url` when it does not exist yet (SPEC: "created if missing").
 * Connects to the server's `postgres` database to do it; a concurrent creation by another instance
 * is not an error.
 */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) throw new Error('DATABASE_URL names no database');
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      } catch (error) {
        // 42P04 duplicate_database, 23505 unique_violation: another instance won the race.
        const code = (error as { code?: string }).code;
        if (code !== '42P04' && code !== '23505') throw error;
      }
    }
  } finally {
    await client.end();
  }
}

/**
 * Runs pending migrations under a PostgreSQL advisory lock, so that several instances starting
 * together apply each migration once instead of racing on the same DDL.
 */
export async function runMigrations(url: string): Promise<void> {
  const dataSource = new DataSource({ ...databaseOptions(url), migrationsRun: false });
  await dataSource.initialize();
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    try {
      await dataSource.runMigrations({ transaction: 'each' });
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    }
  } finally {
    await runner.release();
    await dataSource.destroy();
  }
}
