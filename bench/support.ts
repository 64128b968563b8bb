/*
 * Shared pieces of the service benchmarks (pipeline, webhooks, schedule): a throwaway stack (its
 * own PostgreSQL database and Redis key prefix, removed at the end), the notification service run
 * as a separate Node process, small HTTP helpers and statistics.
 *
 * The service runs in a child process (this file, started with --service-child) so that the
 * benchmark's own work (sandbox, load generation, polling) does not share its event loop. A child
 * answers `stats` messages with its memory and CPU use, and `stop` by closing the app.
 */
import { type ChildProcess, execSync, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { Client } from 'pg';

export const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const ADMIN_KEY = 'bench-admin-key-0123456789abcdef';

// ---------------------------------------------------------------------------------------------
// Stack: database + Redis prefix
// ---------------------------------------------------------------------------------------------

export interface BenchStack {
  databaseName: string;
  databaseUrl: string;
  queuePrefix: string;
  /** A pg client on the stack's database (connect after the service has created it). */
  sql<T>(text: string, params?: unknown[]): Promise<T[]>;
  /** Drops the database and deletes every Redis key under the prefix. */
  cleanup(): Promise<void>;
}

/** Names for one stack; nothing exists yet: the service creates and migrates the database. */
export function benchStack(label: string): BenchStack {
  const id = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const databaseName = `notify_bench_${label}_${id}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${databaseName}`;
  const databaseUrl = url.toString();
  let client: Client | null = null;
  return {
    databaseName,
    databaseUrl,
    queuePrefix: `notify-bench-${label}-${id}`,
    sql: async <T>(text: string, params?: unknown[]): Promise<T[]> => {
      if (!client) {
        client = new Client({ connectionString: databaseUrl });
        await client.connect();
      }
      return (await client.query(text, params)).rows as T[];
    },
    cleanup: async () => {
      await client?.end().catch(() => undefined);
      client = null;
      const admin = new Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
      await deleteRedisKeys(`notify-bench-${label}-${id}*`);
    },
  };
}

async function deleteRedisKeys(pattern: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------
// The service as a child process
// ---------------------------------------------------------------------------------------------

export interface ProcessStats {
  rssMb: number;
  heapUsedMb: number;
  /** Highest RSS sampled every 200 ms since start. */
  peakRssMb: number;
  /** CPU time used since start (user + system), ms. */
  cpuMs: number;
}

type ToChild = { type: 'stats' } | { type: 'stop' };
type FromChild =
  | { type: 'ready' }
  | { type: 'failed'; error: string }
  | { type: 'stats'; stats: ProcessStats }
  | { type: 'stopped' };

export interface ServiceProcess {
  url: string;
  port: number;
  child: ChildProcess;
  stats(): Promise<ProcessStats>;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  stack: BenchStack;
  /** Provider base URL, e.g. the sandbox's `url`. */
  providerUrl: string;
  providerKey: string;
  plan: 'standard' | 'enterprise';
  role?: 'all' | 'api' | 'worker';
  /** Where the provider's webhooks go; defaults to this instance. */
  publicBaseUrl?: string;
  env?: Record<string, string>;
}

/** Starts the real service (apps/notification-service) in its own Node process. */
export async function startService(options: ServiceOptions): Promise<ServiceProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    PORT: String(port),
    DATABASE_URL: options.stack.databaseUrl,
    REDIS_URL,
    QUEUE_PREFIX: options.stack.queuePrefix,
    APP_ROLE: options.role ?? 'all',
    SMS_PROVIDER_BASE_URL: options.providerUrl,
    SMS_PROVIDER_API_KEY: options.providerKey,
    SMS_PROVIDER_PLAN: options.plan,
    SMS_PROVIDER_WEBHOOK_SECRET: 'whsec_sandbox',
    PUBLIC_BASE_URL: options.publicBaseUrl ?? url,
    ADMIN_API_KEY: ADMIN_KEY,
    LOG_LEVEL: 'silent',
    ...(options.env ?? {}),
  };
  const child = fork(__filename, ['--service-child', JSON.stringify(env)], {
    execArgv: ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await nextMessage(child, ['ready', 'failed'], 60_000);
  if (ready.type === 'failed') throw new Error(`service failed to start: ${ready.error}`);
  return {
    url,
    port,
    child,
    stats: async () => {
      const reply = nextMessage(child, ['stats'], 10_000);
      child.send({ type: 'stats' } satisfies ToChild);
      const message = await reply;
      if (message.type !== 'stats') throw new Error('unexpected reply');
      return message.stats;
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send({ type: 'stop' } satisfies ToChild);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function nextMessage(
  child: ChildProcess,
  types: FromChild['type'][],
  timeoutMs: number,
): Promise<FromChild> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (m: FromChild): void => {
      if (!types.includes(m.type)) return;
      cleanup();
      resolve(m);
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`service process exited with ${code}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${types.join('/')} from the service process in ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

async function runServiceChild(): Promise<void> {
  const env = JSON.parse(process.argv[process.argv.indexOf('--service-child') + 1]) as Record<
    string,
    string
  >;
  const send = (message: FromChild): void => {
    process.send?.(message);
  };
  Logger.overrideLogger(false);
  // Loaded here, not at the top: the parent process never needs the service's modules.
  const { startApp } = await import('../apps/notification-service/src/bootstrap');
  const { loadConfig } = await import('../apps/notification-service/src/config/load-config');
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 200);
  let app: Awaited<ReturnType<typeof startApp>>;
  try {
    app = await startApp(loadConfig(env), '127.0.0.1');
  } catch (error) {
    send({ type: 'failed', error: String(error) });
    process.exit(1);
  }
  process.on('message', (m: ToChild) => {
    if (m.type === 'stats') {
      const memory = process.memoryUsage();
      peakRss = Math.max(peakRss, memory.rss);
      const cpu = process.cpuUsage();
      send({
        type: 'stats',
        stats: {
          rssMb: memory.rss / 2 ** 20,
          heapUsedMb: memory.heapUsed / 2 ** 20,
          peakRssMb: peakRss / 2 ** 20,
          cpuMs: (cpu.user + cpu.system) / 1000,
        },
      });
    } else if (m.type === 'stop') {
      clearInterval(sampler);
      void app.close().finally(() => {
        send({ type: 'stopped' });
        process.exit(0);
      });
    }
  });
  // Without a parent there is nobody to stop us.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready' });
}

// ---------------------------------------------------------------------------------------------
// HTTP, statistics, machine
// ---------------------------------------------------------------------------------------------

export interface JsonResponse<T> {
  status: number;
  body: T;
}

/** JSON request with the admin bearer key. */
export async function api<T>(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<JsonResponse<T>> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_KEY}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
}

/** GET (or another method) on the sandbox's /__admin routes. */
export async function sandboxAdmin<T>(adminUrl: string, path: string): Promise<T> {
  const response = await fetch(`${adminUrl}${path}`);
  if (!response.ok) throw new Error(`sandbox admin ${path}: ${response.status}`);
  return (await response.json()) as T;
}

export interface LoggedRequest {
  at: number;
  method: string;
  path: string;
  key: string | null;
  status: number | null;
}

export interface SandboxMessageView {
  message_id: string;
  to: string;
  status: string;
  created_at: string;
}

/** Polls `check` until it is truthy; throws with `what` after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | null | false | undefined>,
  what: string,
  timeoutMs: number,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Nearest-rank percentile of `values` (need not be sorted); NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** `+1415555NNNN` for n = from … from + count - 1 (all valid E.164, none with a test suffix). */
export function recipients(from: number, count: number): string[] {
  const out: string[] = [];
  for (let n = from; out.length < count; n += 1) {
    if (n > 9999) throw new Error('ran out of +1415555xxxx numbers');
    // 400/666/777/888/999 endings change the sandbox's outcome: skip them.
    if (/(400|666|777|888|999)$/.test(String(n).padStart(4, '0'))) continue;
    out.push(`+1415555${String(n).padStart(4, '0')}`);
  }
  return out;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** One line describing the box and how busy it is right now. */
export function machineLine(): string {
  let nproc = String(cpus().length);
  try {
    nproc = execSync('nproc', { encoding: 'utf8' }).trim();
  } catch {
    // keep os.cpus()
  }
  const gb = (bytes: number): string => (bytes / 2 ** 30).toFixed(1);
  const [one, five] = loadavg();
  return `node ${process.version}, nproc ${nproc}, memory ${gb(totalmem())} GiB (${gb(freemem())} free), load avg ${one.toFixed(2)} / ${five.toFixed(2)} (1 / 5 min), ${new Date().toISOString()}`;
}

export function fmt(value: number, digits = 0): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '–';
}

if (process.argv.includes('--service-child')) {
  runServiceChild().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
