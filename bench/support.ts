/*
 * Shared pieces of the service benchmarks (pipeline, webhooks, schedule): a throwaway stack (its
 * own PostgreSQL database and Redis key prefix, removed at the end), the notification service and
 * the provider sandbox each run as a separate Node process, small HTTP helpers and statistics.
 *
 * Children are this file started with --service-child or --sandbox-child, so that the benchmark's
 * own work (load generation, polling) shares no event loop with them. A child answers `stats`
 * messages with its memory, CPU use and event-loop delay, and `stop` by closing the app.
 */
import { type ChildProcess, execSync, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import type { SandboxOverrides } from '../apps/sms-provider-sandbox/src/config';
import { freePort } from '../test/support/free-port';
import { runProviderAhead } from '../test/support/process-priority';

export const PG_ADMIN_URL =
  process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
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
// The service and the sandbox as child processes
// ---------------------------------------------------------------------------------------------

export interface ProcessStats {
  rssMb: number;
  heapUsedMb: number;
  /** Highest RSS sampled every 200 ms since start. */
  peakRssMb: number;
  /** CPU time used since start (user + system), ms. */
  cpuMs: number;
  /** How late a 10 ms timer fired since the previous stats() call (perf_hooks), ms. */
  loopDelay: { p50: number; p99: number; max: number };
}

const LOOP_RESOLUTION_MS = 10;

type ToChild = { type: 'stats'; gc: boolean } | { type: 'stop' };
type FromChild =
  | { type: 'ready'; url: string; adminUrl: string }
  | { type: 'failed'; error: string }
  | { type: 'stats'; stats: ProcessStats }
  | { type: 'stopped' };
type ChildKind = 'service' | 'sandbox';

export interface BenchProcess {
  url: string;
  child: ChildProcess;
  /** `gc`: run a full garbage collection first, so heap and RSS show what is retained. */
  stats(gc?: boolean): Promise<ProcessStats>;
  stop(): Promise<void>;
}

export interface SandboxProcess extends BenchProcess {
  /** http://127.0.0.1:<port>/__admin */
  adminUrl: string;
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
export async function startService(options: ServiceOptions): Promise<BenchProcess> {
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
    SMS_PROVIDER_WEBHOOK_SECRET: WEBHOOK_SECRET,
    PUBLIC_BASE_URL: options.publicBaseUrl ?? url,
    ADMIN_API_KEY: ADMIN_KEY,
    LOG_LEVEL: 'silent',
    ...(options.env ?? {}),
  };
  return (await spawnChild('service', env)).handle;
}

/**
 * Starts the provider sandbox in its own Node process (a real provider is another machine: its
 * arrival timestamps should not wait on the benchmark's event loop). `overrides` are
 * SandboxOverrides; logLevel is forced to silent and port to a free one.
 */
export async function startSandboxProcess(overrides: SandboxOverrides): Promise<SandboxProcess> {
  const { handle, ready } = await spawnChild('sandbox', {
    webhookSecret: WEBHOOK_SECRET,
    ...overrides,
    port: 0,
    logLevel: 'silent',
  });
  return { ...handle, adminUrl: ready.adminUrl };
}

export const WEBHOOK_SECRET = 'whsec_bench';

async function spawnChild(
  kind: ChildKind,
  payload: object,
): Promise<{ handle: BenchProcess; ready: { url: string; adminUrl: string } }> {
  const child = fork(__filename, [`--${kind}-child`, JSON.stringify(payload)], {
    execArgv: [
      '--expose-gc',
      '-r',
      'ts-node/register/transpile-only',
      '-r',
      'tsconfig-paths/register',
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  if (kind === 'sandbox') runProviderAhead(child.pid);
  const ready = await nextMessage(child, ['ready', 'failed'], 60_000).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  if (ready.type !== 'ready') {
    child.kill('SIGKILL');
    throw new Error(`${kind} failed to start: ${ready.type === 'failed' ? ready.error : ''}`);
  }
  const handle: BenchProcess = {
    url: ready.url,
    child,
    stats: async (gc = false) => {
      const reply = nextMessage(child, ['stats'], 10_000);
      child.send({ type: 'stats', gc } satisfies ToChild);
      const message = await reply;
      if (message.type !== 'stats') throw new Error('unexpected reply');
      return message.stats;
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send({ type: 'stop' } satisfies ToChild);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
  return { handle, ready };
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
      reject(new Error(`bench child process exited with ${code}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${types.join('/')} from the child process in ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Inside a child: starts the app, then serves `stats` and `stop` over IPC. */
async function runChild(kind: ChildKind): Promise<void> {
  const payload = JSON.parse(process.argv[process.argv.indexOf(`--${kind}-child`) + 1]) as Record<
    string,
    unknown
  >;
  const send = (message: FromChild): void => {
    process.send?.(message);
  };
  Logger.overrideLogger(false);
  let peakRss = process.memoryUsage().rss;
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loopDelay.enable();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 200);
  let close: () => Promise<void>;
  try {
    // Loaded here, not at the top: the parent process never needs these modules.
    if (kind === 'service') {
      const { startApp } = await import('../apps/notification-service/src/bootstrap');
      const { loadConfig } = await import('../apps/notification-service/src/config/load-config');
      const env = payload as Record<string, string>;
      const app = await startApp(loadConfig(env), '127.0.0.1');
      close = () => app.close();
      send({ type: 'ready', url: `http://127.0.0.1:${env.PORT}`, adminUrl: '' });
    } else {
      const { startSandbox } = await import('../apps/sms-provider-sandbox/src/bootstrap');
      const sandbox = await startSandbox(payload);
      close = () => sandbox.close();
      send({ type: 'ready', url: sandbox.url, adminUrl: sandbox.adminUrl });
    }
  } catch (error) {
    send({ type: 'failed', error: String(error) });
    process.exit(1);
  }
  process.on('message', (m: ToChild) => {
    if (m.type === 'stats') {
      if (m.gc) globalThis.gc?.();
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
          // The histogram holds whole timer periods: minus the resolution is the lateness.
          loopDelay: {
            p50: Math.max(0, loopDelay.percentile(50) / 1e6 - LOOP_RESOLUTION_MS),
            p99: Math.max(0, loopDelay.percentile(99) / 1e6 - LOOP_RESOLUTION_MS),
            max: Math.max(0, loopDelay.max / 1e6 - LOOP_RESOLUTION_MS),
          },
        },
      });
      loopDelay.reset();
    } else if (m.type === 'stop') {
      clearInterval(sampler);
      void close().finally(() => {
        send({ type: 'stopped' });
        process.exit(0);
      });
    }
  });
  // Without a parent there is nobody to stop us.
  process.on('disconnect', () => process.exit(0));
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

/** Provider-side arrival time of each recipient's send, from the request log. */
export function arrivals(
  log: LoggedRequest[],
  messages: SandboxMessageView[],
  latencyMs: number,
): { byRecipient: Map<string, number>; slackMs: number } {
  // The sandbox logs arrivals (no recipient) and keeps messages (recipient, created_at =
  // arrival + injected latency + handling). Each accepted send creates one message and the latency
  // is a fixed timer, so the n-th accepted arrival is the n-th created message.
  const sends = log
    .filter((r) => r.method === 'POST' && r.path === '/v1/messages' && r.status === 200)
    .sort((a, b) => a.at - b.at);
  const created = messages
    .map((m) => ({ to: m.to, at: Date.parse(m.created_at) }))
    .sort((a, b) => a.at - b.at);
  if (sends.length !== created.length) {
    throw new Error(`${sends.length} accepted sends but ${created.length} sandbox messages`);
  }
  const byRecipient = new Map<string, number>();
  let slackMs = 0;
  sends.forEach((send, i) => {
    byRecipient.set(created[i].to, send.at);
    slackMs = Math.max(slackMs, Math.abs(created[i].at - send.at - latencyMs));
  });
  return { byRecipient, slackMs };
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

export interface CpuSnapshot {
  at: number;
  /** Jiffies of the whole box from /proc/stat: busy (not idle, not iowait) and total. */
  boxBusy: number;
  boxTotal: number;
  /** CPU seconds of the PostgreSQL backends connected to `database`. */
  postgresS: number;
}

/** Linux only (/proc); zeros elsewhere. */
export function cpuSnapshot(database: string): CpuSnapshot {
  const snapshot: CpuSnapshot = { at: Date.now(), boxBusy: 0, boxTotal: 0, postgresS: 0 };
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1);
    const values = fields.map(Number);
    snapshot.boxTotal = values.reduce((a, b) => a + b, 0);
    snapshot.boxBusy = snapshot.boxTotal - values[3] - (values[4] ?? 0);
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (!cmdline.startsWith('postgres: ') || !cmdline.includes(` ${database} `)) continue;
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        // Fields 14 and 15 (utime, stime) are 12 and 13 after the command name; 100 ticks/s.
        snapshot.postgresS += (Number(after[11]) + Number(after[12])) / 100;
      } catch {
        // the process went away
      }
    }
  } catch {
    // not Linux
  }
  return snapshot;
}

/** Average busy cores of the box and of the database's backends between two snapshots. */
export function cpuBetween(
  before: CpuSnapshot,
  after: CpuSnapshot,
): { boxCores: number; postgresCores: number } {
  const seconds = (after.at - before.at) / 1000;
  const total = after.boxTotal - before.boxTotal;
  return {
    boxCores: total > 0 ? ((after.boxBusy - before.boxBusy) / total) * cpus().length : Number.NaN,
    postgresCores: seconds > 0 ? (after.postgresS - before.postgresS) / seconds : Number.NaN,
  };
}

export function fmt(value: number, digits = 0): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '–';
}

for (const kind of ['service', 'sandbox'] as const) {
  if (process.argv.includes(`--${kind}-child`)) {
    runChild(kind).catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
  }
}
