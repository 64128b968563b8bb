import { Client } from 'pg';
import { errorText } from './error-text';

/** The server every throwaway database lives on, unless a caller's environment says otherwise. */
export const DEFAULT_PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** `adminUrl` with its database replaced by `name`. */
export function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Creates `name`, as a copy of `template` when given (CREATE DATABASE … TEMPLATE: milliseconds). */
export async function createDatabase(
  adminUrl: string,
  name: string,
  template?: string,
): Promise<void> {
  await withAdmin(adminUrl, async (admin) => {
    const from = template === undefined ? '' : ` TEMPLATE ${quote(template)}`;
    await admin.query(`CREATE DATABASE ${quote(name)}${from}`);
  });
}

/** WITH (FORCE) ends sessions a killed run may have left behind (PostgreSQL 13+). */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await withAdmin(adminUrl, async (admin) => {
    await admin.query(`DROP DATABASE IF EXISTS ${quote(name)} WITH (FORCE)`);
  });
}

/** Drops and creates `name`, so a run starts from an empty database whatever the last one left. */
export async function recreateDatabase(adminUrl: string, name: string): Promise<void> {
  await withAdmin(adminUrl, async (admin) => {
    await admin.query(`DROP DATABASE IF EXISTS ${quote(name)} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${quote(name)}`);
  });
}

/** Drops every database whose name starts with `prefix`; returns their names. */
export async function dropDatabasesStartingWith(
  adminUrl: string,
  prefix: string,
): Promise<string[]> {
  return withAdmin(adminUrl, async (admin) => {
    const { rows } = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE starts_with(datname, $1)`,
      [prefix],
    );
    for (const { datname } of rows) {
      await admin.query(`DROP DATABASE IF EXISTS ${quote(datname)} WITH (FORCE)`);
    }
    return rows.map((r) => r.datname);
  });
}

async function withAdmin<T>(adminUrl: string, work: (admin: Client) => Promise<T>): Promise<T> {
  const admin = new Client({ connectionString: adminUrl });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(`PostgreSQL is not reachable at ${redacted(adminUrl)}: ${errorText(error)}`);
  }
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

function quote(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A password in the URL has no place in an error message. */
function redacted(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
