import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from './ports';
import { waitFor } from './wait';

export interface OwnPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  adminUrl: string;
  port: number;
  /** Stops the server and removes its data directory. */
  stop(): Promise<void>;
  /** Stops the server (fast shutdown: sessions are cut), keeping its data for resume(). */
  pause(): void;
  /** Starts a paused server again on the same port and data; resolves once it answers. */
  resume(): Promise<void>;
}

/** Where initdb and pg_ctl are: on PATH, or in Debian's versioned directory. */
export function postgresBinDir(): string | null {
  const onPath = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  if (onPath.status === 0 && onPath.stdout.trim()) return join(onPath.stdout.trim(), '..');
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  const found = versions
    .map((v) => join(root, v, 'bin'))
    .find((d) => existsSync(join(d, 'initdb')));
  return found ?? null;
}

/**
 * A throwaway PostgreSQL server of our own (initdb in a temporary directory, a spare port, trust
 * authentication for user postgres, no fsync), removed by stop(). PostgreSQL refuses to run as
 * root: as root, it runs as the `postgres` system user.
 */
export async function startPostgresServer(port?: number): Promise<OwnPostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('initdb/pg_ctl not found (install PostgreSQL)');
  const chosen = port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'notify-pg-'));
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const ids = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gids = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (ids.status !== 0) throw new Error('running as root and there is no postgres user');
    chownSync(dir, Number(ids.stdout), Number(gids.stdout));
  }
  const run = (tool: string, args: string[]) => {
    const [cmd, argv] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]]
      : [join(bin, tool), args];
    const result = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 60_000 });
    if (result.status !== 0) throw new Error(`${tool} failed: ${result.stderr || result.stdout}`);
  };
  const data = join(dir, 'data');
  const remove = () => rmSync(dir, { recursive: true, force: true });
  const options = `-p ${chosen} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const start = () =>
    run('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', 'start']);
  let running = false;
  try {
    run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
    start();
    running = true;
  } catch (error) {
    remove();
    throw error;
  }
  const adminUrl = `postgres://postgres@127.0.0.1:${chosen}/postgres`;
  const answers = () =>
    waitFor(() => postgresAnswers(adminUrl), {
      timeoutMs: 20_000,
      what: `PostgreSQL on port ${chosen}`,
    });
  await answers();
  const pause = () => {
    if (!running) return;
    run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
    running = false;
  };
  return {
    adminUrl,
    port: chosen,
    pause,
    resume: async () => {
      if (!running) start();
      running = true;
      await answers();
    },
    stop: () => {
      try {
        pause();
      } finally {
        remove();
      }
      return Promise.resolve();
    },
  };
}

/** True when a connection to `url` succeeds now. */
export async function postgresAnswers(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether `redis-server` can be started here. */
export function hasRedisServer(): boolean {
  return spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).status === 0;
}
