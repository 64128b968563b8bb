/*
 * Shared pieces of the service benchmarks (pipeline, webhooks, schedule): a throwaway stack (its
 * own PostgreSQL database and Redis key prefix, removed at the end), the notification service and
 * the provider sandbox each in a Node process of its own (tools/stack: forkService, forkSandbox,
 * measured, so that the benchmark's own work shares no event loop with them), HTTP helpers and
 * statistics.
 */
import { execSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { type Agent, request } from 'node:http';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { TERMINAL_STATUSES } from '../apps/notification-service/src/delivery-status/message-status';
import type { SandboxOverrides } from '../apps/sms-provider-sandbox/src/config';
import {
  callApi,
  connectRedis,
  DEFAULT_PG_ADMIN_URL,
  DEFAULT_REDIS_URL,
  type ForkedApp,
  forkSandbox,
  type ProcessStats,
  forkService,
  freePort,
  type LoggedRequest,
  sandboxAdmin,
  type SandboxProcess,
  type Throwaway,
  throwaway,
  uniqueId,
} from '../tools/stack';

export {
  type ForkedApp as BenchProcess,
  type LoggedRequest,
  type ProcessStats,
  waitFor,
} from '../tools/stack';

const ROOT = join(__dirname, '..');
export const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? DEFAULT_PG_ADMIN_URL;
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? DEFAULT_REDIS_URL;
export const ADMIN_KEY = 'bench-admin-key-0123456789abcdef';
export const WEBHOOK_SECRET = 'whsec_bench';

// ---------------------------------------------------------------------------------------------
// Stack: database + Redis prefix, the service and the sandbox
// ---------------------------------------------------------------------------------------------

export interface BenchStack extends Throwaway {
  /** A pg client on the stack's database (connect after the service has created it). */
  sql<T>(text: string, params?: unknown[]): Promise<T[]>;
  /** Closes the client, drops the database and deletes every Redis key under the prefix. */
  cleanup(): Promise<void>;
}

/** Names for one stack; nothing exists yet: the service creates and migrates the database. */
export function benchStack(label: string): BenchStack {
  const id = uniqueId();
  const stack = throwaway({
    adminUrl: PG_ADMIN_URL,
    redisUrl: REDIS_URL,
    databaseName: `notify_bench_${label}_${id}`.toLowerCase().replace(/[^a-z0-9_]/g, '_'),
    queuePrefix: `notify-bench-${label}-${id}`,
  });
  let client: Client | null = null;
  return {
    ...stack,
    sql: async <T>(text: string, params?: unknown[]): Promise<T[]> => {
      if (!client) {
        client = new Client({ connectionString: stack.databaseUrl });
        await client.connect();
      }
      return (await client.query(text, params)).rows as T[];
    },
    cleanup: async () => {
      await client?.end().catch(() => undefined);
      client = null;
      await stack.remove();
    },
  };
}

/** Messages of the stack not in a final state yet. */
export async function openMessages(stack: BenchStack): Promise<number> {
  const [row] = await stack.sql<{ n: number }>(
    `SELECT count(*)::int AS n FROM messages WHERE status <> ALL($1::text[])`,
    [[...TERMINAL_STATUSES]],
  );
  return row.n;
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
  /** More Node flags for the service process, e.g. `--cpu-prof`. */
  execArgv?: string[];
}

/**
 * Service variables for the benches that measure the throttle and the fair share per request
 * (pipeline, fair-share): their backlogs are one notification's recipients with one text, which
 * batching would send as a handful of requests of 100. One recipient per request keeps their
 * figures what they were: requests per second against the plan. bench/batching.ts measures the
 * batches.
 */
export const ONE_RECIPIENT_PER_REQUEST: Readonly<Record<string, string>> = { SEND_BATCH_MAX: '1' };

/** Starts the real service (apps/notification-service) in its own Node process. */
export async function startService(options: ServiceOptions): Promise<ForkedApp> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  return forkService(
    {
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
    },
    {
      measure: true,
      execArgv: [...productionNodeFlags(), ...(options.execArgv ?? [])],
      compiled: compiledService(),
    },
  );
}

/**
 * Benchmarks measure the service as production runs it: compiled, under plain `node`, with the
 * Docker image's V8 flags. BENCH_FROM_SOURCE=1 runs it from source under ts-node instead (no
 * build; its memory then includes the TypeScript compiler's, ~100 MB).
 */
let built = false;
function compiledService(): boolean {
  if (process.env.BENCH_FROM_SOURCE === '1') return false;
  if (!built) {
    execSync('npx nest build notification-service', { cwd: ROOT, stdio: 'ignore' });
    built = true;
  }
  return true;
}

/** The NODE_OPTIONS of the Docker image (Dockerfile), so a bench runs what a container would. */
export function productionNodeFlags(): string[] {
  const match = /^ENV NODE_OPTIONS="([^"]*)"/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
  return match ? match[1].split(/\s+/).filter(Boolean) : [];
}

/**
 * An API-only instance (no send worker competing): it never calls the provider, so the provider
 * URL only has to be valid.
 */
export function startApiService(
  stack: BenchStack,
  options: Pick<ServiceOptions, 'env' | 'execArgv'> = {},
): Promise<ForkedApp> {
  return startService({
    stack,
    providerUrl: 'http://127.0.0.1:9/v1',
    providerKey: 'sk_bench_unused',
    plan: 'standard',
    role: 'api',
    ...options,
  });
}

/** One POST over `agent` (keep-alive) to 127.0.0.1; resolves to the status and the body. */
export function postOnce(
  agent: Agent,
  port: number,
  path: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs = 10_000,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        method: 'POST',
        path,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          ...headers,
        },
        timeout: timeoutMs,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/** The provider sandbox in its own Node process, silent, with the benchmarks' webhook secret. */
export function startSandboxProcess(overrides: SandboxOverrides): Promise<SandboxProcess> {
  return forkSandbox(
    { webhookSecret: WEBHOOK_SECRET, ...overrides, logLevel: 'silent' },
    { measure: true },
  );
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
  const { status, body: answer } = await callApi<T>(baseUrl, method, path, {
    body,
    key: ADMIN_KEY,
  });
  return { status, body: answer };
}

export interface SandboxMessageView {
  message_id: string;
  to: string;
  status: string;
  created_at: string;
}

/** What the sandbox recorded for one API key: its request log and the messages it holds. */
export async function providerRecords(
  adminUrl: string,
  key: string,
): Promise<{ log: LoggedRequest[]; messages: SandboxMessageView[] }> {
  const query = `?key=${encodeURIComponent(key)}`;
  return {
    log: await sandboxAdmin<LoggedRequest[]>(adminUrl, 'GET', `/requests${query}`),
    messages: await sandboxAdmin<SandboxMessageView[]>(adminUrl, 'GET', `/messages${query}`),
  };
}

/** One request the provider accepted, as its admin view shows it: one row per recipient. */
export interface AcceptedSend {
  messageId: string;
  /** When the sandbox created the message: arrival + injected latency + handling, epoch ms. */
  createdAt: number;
  recipients: string[];
}

/**
 * The sandbox's rows grouped into the requests it accepted: a request to an array of numbers is
 * one message id with a row per recipient, all created at the same instant. Oldest first.
 */
export function acceptedSends(messages: SandboxMessageView[]): AcceptedSend[] {
  const byId = new Map<string, AcceptedSend>();
  for (const m of messages) {
    const send = byId.get(m.message_id);
    if (send) send.recipients.push(m.to);
    else
      byId.set(m.message_id, {
        messageId: m.message_id,
        createdAt: Date.parse(m.created_at),
        recipients: [m.to],
      });
  }
  return [...byId.values()].sort((a, b) => a.createdAt - b.createdAt);
}

/** Provider-side arrival time of each recipient's send, from the request log. */
export function arrivals(
  log: LoggedRequest[],
  messages: SandboxMessageView[],
  latencyMs: number,
): { byRecipient: Map<string, number>; slackMs: number; sends: AcceptedSend[] } {
  // The sandbox logs arrivals (no recipient) and keeps messages (recipient, created_at =
  // arrival + injected latency + handling). Each accepted send creates one message id, for one
  // recipient or many, and the latency is a fixed timer, so the n-th accepted arrival is the n-th
  // message id created.
  const accepted = log
    .filter((r) => r.method === 'POST' && r.path === '/v1/messages' && r.status === 200)
    .sort((a, b) => a.at - b.at);
  const sends = acceptedSends(messages);
  if (accepted.length !== sends.length) {
    throw new Error(`${accepted.length} accepted sends but ${sends.length} sandbox message ids`);
  }
  const byRecipient = new Map<string, number>();
  let slackMs = 0;
  accepted.forEach((request, i) => {
    for (const to of sends[i].recipients) byRecipient.set(to, request.at);
    slackMs = Math.max(slackMs, Math.abs(sends[i].createdAt - request.at - latencyMs));
  });
  return { byRecipient, slackMs, sends };
}

/** Nearest-rank percentile of `values` (need not be sorted); NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/**
 * `+1415555NNNN` for n = from … from + count - 1, going on into +1415556…, +1415557… past 9999
 * (all valid E.164, none with a test suffix).
 */
export function recipients(from: number, count: number): string[] {
  const out: string[] = [];
  for (let n = from; out.length < count; n += 1) {
    if (n > 4_449_999) throw new Error('ran out of +14155550000… numbers');
    // 400/666/777/888/999 endings change the sandbox's outcome: skip them.
    if (/(400|666|777|888|999)$/.test(String(n).padStart(4, '0'))) continue;
    out.push(`+1415${5_550_000 + n}`);
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

export interface Machine {
  cpuModel: string;
  nproc: string;
  memoryGiB: number;
  node: string;
  /** `server_version` and the settings that decide the cost of a commit. */
  postgres: string;
  redis: string;
}

/** What the benches ran on; a server that does not answer is reported, not fatal. */
export async function machine(): Promise<Machine> {
  let nproc = String(cpus().length);
  try {
    nproc = execSync('nproc', { encoding: 'utf8' }).trim();
  } catch {
    // keep os.cpus()
  }
  let postgres = 'not reachable';
  const client = new Client({ connectionString: PG_ADMIN_URL });
  try {
    await client.connect();
    const settings = await client.query<{ name: string; setting: string; unit: string | null }>(
      `SELECT name, setting, unit FROM pg_settings
       WHERE name IN ('server_version', 'fsync', 'synchronous_commit', 'shared_buffers', 'max_connections')
       ORDER BY name`,
    );
    const byName = new Map(settings.rows.map((r) => [r.name, r]));
    const sharedBuffers = byName.get('shared_buffers');
    // shared_buffers is counted in 8 kB pages.
    const buffersMb = sharedBuffers ? (Number(sharedBuffers.setting) * 8) / 1024 : Number.NaN;
    postgres = `${byName.get('server_version')?.setting ?? '?'} (fsync ${byName.get('fsync')?.setting ?? '?'}, synchronous_commit ${byName.get('synchronous_commit')?.setting ?? '?'}, shared_buffers ${fmt(buffersMb)} MB, max_connections ${byName.get('max_connections')?.setting ?? '?'})`;
  } catch {
    // stays "not reachable"
  } finally {
    await client.end().catch(() => undefined);
  }
  let redis = 'not reachable';
  try {
    // The kit's connection: any REDIS_URL form the service accepts, a cluster included.
    const connection = await connectRedis(REDIS_URL);
    try {
      redis = /redis_version:(\S+)/.exec(await connection.info('server'))?.[1] ?? '?';
    } finally {
      connection.disconnect();
    }
  } catch {
    // stays "not reachable"
  }
  return {
    cpuModel: cpus()[0]?.model ?? '?',
    nproc,
    memoryGiB: totalmem() / 2 ** 30,
    node: process.version,
    postgres,
    redis,
  };
}

/** Told what a bench starts next, so that a long run shows where it is. */
export type Progress = (step: string) => void;

/**
 * Waits (up to `maxWaitMs`, looking every 10 s) for the 1-minute load average to drop below
 * `maxLoad`, so that a timing figure is not another process's; answers the load it starts at.
 */
export async function waitForQuiet(
  maxLoad: number,
  maxWaitMs: number,
  progress: Progress,
): Promise<number> {
  const until = Date.now() + maxWaitMs;
  while (loadavg()[0] >= maxLoad && Date.now() < until) {
    progress(`load ${loadavg()[0].toFixed(2)} ≥ ${maxLoad}: waiting`);
    await new Promise((resolve) => setTimeout(resolve, 10_000));
  }
  return loadavg()[0];
}

/** For a bench run alone: its steps on stderr, leaving stdout to the figures. */
export const stderrProgress: Progress = (step) => {
  process.stderr.write(`… ${step}\n`);
};

/** The peak memory of one process of a bench. */
export interface ProcessPeak {
  /** Which process, e.g. `intake x2 / api 2`. */
  name: string;
  /** `service`: what the < 200 MB target is about; the others are for comparison. */
  kind: 'service' | 'sandbox' | 'reference';
  peakRssMb: number;
  /** After a full GC at the end of the load, when the bench took one. */
  heapUsedMb?: number;
}

export function peakOf(
  name: string,
  kind: ProcessPeak['kind'],
  stats: ProcessStats,
  gcTaken = false,
): ProcessPeak {
  return {
    name,
    kind,
    peakRssMb: stats.peakRssMb,
    ...(gcTaken ? { heapUsedMb: stats.heapUsedMb } : {}),
  };
}

/**
 * The tail of every bench script run alone: failures of its correctness checks (lost or
 * duplicate rows) end it with a non-zero exit after the figures are printed, so a script or CI
 * step running it notices.
 */
export function failOnProblems(problems: readonly string[]): void {
  if (problems.length === 0) return;
  console.error(`\nCORRECTNESS CHECK FAILED:\n${problems.map((p) => `- ${p}`).join('\n')}`);
  process.exitCode = 1;
}

/** Runs a script's `main` when the file is run, not imported; an error exits non-zero. */
export function runScript(module: NodeModule, main: () => Promise<void>): void {
  if (require.main !== module) return;
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
