/*
 * Webhook receiver benchmark: how many signed provider status events per second one service
 * instance applies, at what latency, and whether each one lands exactly once.
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/webhooks.ts [--profile]
 *
 * One service instance with APP_ROLE=api (no send worker competing) runs in a child process
 * (bench/support.ts); this process is the load generator. Before the load, WEBHOOK_BENCH_MESSAGES
 * messages are inserted by SQL as `queued` with distinct provider ids. Each `message.delivered`
 * event is signed with the library's generateTestWebhook() beforehand, so the timed loop only
 * sends. Requests go over keep-alive connections (node:http Agent), one loop per connection, each
 * loop sending its next event as soon as the previous answer arrives (closed loop).
 *
 * Phases: warm-up (2 s, not reported), first deliveries at 32 and at 64 connections (each message
 * gets its event once: outcome `applied`), then replays of events already applied (outcome
 * `unchanged`). Afterwards SQL checks that every message whose event was answered 2xx is
 * `delivered` with exactly one `delivered` timeline row, and that the others are untouched.
 *
 * Env: WEBHOOK_BENCH_SECONDS (first-delivery phase at 64 connections, default 20; the others are
 * half of it), WEBHOOK_BENCH_MESSAGES (default 80000), BENCH_PG_URL, BENCH_REDIS_URL.
 */
import { Agent } from 'node:http';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { generateTestWebhook } from '../libs/sms-provider/src/webhook-signature';
import {
  type BenchProcess,
  benchStack,
  cpuBetween,
  cpuSnapshot,
  failOnProblems,
  fmt,
  machineLine,
  peakOf,
  percentile,
  type ProcessPeak,
  type ProcessStats,
  type Progress,
  postOnce,
  runScript,
  startApiService,
  stderrProgress,
  WEBHOOK_SECRET,
} from './support';

const SECONDS = Number(process.env.WEBHOOK_BENCH_SECONDS ?? 20);
const MESSAGES = Number(process.env.WEBHOOK_BENCH_MESSAGES ?? 80_000);
const REQUEST_TIMEOUT_MS = 10_000;

export interface Phase {
  name: string;
  kind: 'warm-up' | 'first' | 'replay';
  connections: number;
  seconds: number;
}

/** `seconds`: the first-delivery phase at 64 connections; the others are half of it. */
export function webhookPhases(seconds: number): Phase[] {
  return [
    { name: 'warm-up', kind: 'warm-up', connections: 32, seconds: 2 },
    { name: 'first delivery', kind: 'first', connections: 32, seconds: seconds / 2 },
    { name: 'first delivery', kind: 'first', connections: 64, seconds },
    { name: 'replay (same events again)', kind: 'replay', connections: 64, seconds: seconds / 2 },
  ];
}

interface Signed {
  index: number;
  body: string;
  signature: string;
}

/** One phase as the report shows it. */
export interface PhaseFigures {
  phase: Phase;
  requests: number;
  elapsedS: number;
  perSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  errors: number;
  outcomes: Record<string, number>;
  serviceCores: number;
  generatorCores: number;
  postgresCores: number;
  boxCores: number;
  loadAvg: number;
  ranOut: boolean;
}

interface PhaseResult {
  phase: Phase;
  requests: number;
  elapsedS: number;
  latencies: number[];
  non2xx: number;
  errors: number;
  outcomes: Record<string, number>;
  /** Messages whose event was answered 2xx in this phase. */
  acknowledged: number[];
  /** Messages whose request failed without an answer (timeout, reset). */
  inDoubt: number[];
  serviceCpuS: number;
  clientCpuS: number;
  postgresCores: number;
  boxCores: number;
  loadAvg: number;
  ranOut: boolean;
}

function providerId(index: number): string {
  return `msg_bench_${index}`;
}

function sign(index: number): Signed {
  const deliveredAt = new Date().toISOString();
  const { body, signature } = generateTestWebhook(
    {
      event: 'message.delivered',
      message_id: providerId(index),
      to: `+1415555${String(100 + (index % 9000)).padStart(4, '0')}`,
      status: 'delivered',
      delivered_at: deliveredAt,
      timestamp: Math.floor(Date.now() / 1000),
    },
    WEBHOOK_SECRET,
  );
  return { index, body, signature };
}

/** Closed loop: `connections` loops, each sending the next event when its answer arrives. */
async function runPhase(
  phase: Phase,
  port: number,
  next: () => Signed | null,
  serviceStats: () => Promise<ProcessStats>,
  database: string,
): Promise<PhaseResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: phase.connections });
  const latencies: number[] = [];
  const outcomes: Record<string, number> = {};
  const acknowledged: number[] = [];
  const inDoubt: number[] = [];
  let non2xx = 0;
  let errors = 0;
  let ranOut = false;
  const serviceBefore = await serviceStats();
  const clientBefore = process.cpuUsage();
  const cpuBefore = cpuSnapshot(database);
  const started = performance.now();
  const stopAt = started + phase.seconds * 1000;

  const loop = async (): Promise<void> => {
    while (performance.now() < stopAt) {
      const event = next();
      if (!event) {
        ranOut = true;
        return;
      }
      const t0 = performance.now();
      try {
        const res = await postOnce(
          agent,
          port,
          '/v1/webhooks/sms-provider',
          event.body,
          { 'x-smsprovider-signature': event.signature },
          REQUEST_TIMEOUT_MS,
        );
        latencies.push(performance.now() - t0);
        if (res.status >= 200 && res.status < 300) {
          acknowledged.push(event.index);
          const outcome = (JSON.parse(res.text) as { outcome?: string }).outcome ?? '?';
          outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        } else {
          non2xx += 1;
          inDoubt.push(event.index);
        }
      } catch {
        errors += 1;
        inDoubt.push(event.index);
      }
    }
  };
  await Promise.all(Array.from({ length: phase.connections }, loop));
  const elapsedS = (performance.now() - started) / 1000;
  const clientCpu = process.cpuUsage(clientBefore);
  const cpu = cpuBetween(cpuBefore, cpuSnapshot(database));
  const serviceAfter = await serviceStats();
  agent.destroy();
  return {
    phase,
    requests: latencies.length + errors,
    elapsedS,
    latencies,
    non2xx,
    errors,
    outcomes,
    acknowledged,
    inDoubt,
    serviceCpuS: (serviceAfter.cpuMs - serviceBefore.cpuMs) / 1000,
    clientCpuS: (clientCpu.user + clientCpu.system) / 1e6,
    postgresCores: cpu.postgresCores,
    boxCores: cpu.boxCores,
    loadAvg: loadavg()[0],
    ranOut,
  };
}

export interface WebhooksResult {
  messages: number;
  seedS: number;
  phases: PhaseFigures[];
  check: {
    /** Messages whose event was answered 2xx (warm-up and first deliveries). */
    acknowledged: number;
    delivered: number;
    exactlyOne: number;
    /** Over the whole table. */
    allDelivered: number;
    stillQueued: number;
    neverSent: number;
    inDoubt: number;
    eventRows: number;
    parked: number;
  };
  memory: { before: ProcessStats; after: ProcessStats };
  processes: ProcessPeak[];
  problems: string[];
}

export async function runWebhooks(
  options: {
    seconds?: number;
    messages?: number;
    progress?: Progress;
    /** Node flags for the service, e.g. `--cpu-prof` (see `--profile` below). */
    execArgv?: string[];
  } = {},
): Promise<WebhooksResult> {
  const { seconds = SECONDS, messages = MESSAGES, progress = stderrProgress } = options;
  const stack = benchStack('webhooks');
  let service: BenchProcess | null = null;
  try {
    progress('starting one api instance');
    service = await startApiService(stack, { execArgv: options.execArgv ?? [] });
    const running = service;
    const port = Number(new URL(running.url).port);
    progress(`seeding ${messages} queued messages by SQL and signing their events`);
    const seedStarted = Date.now();
    const [notification] = await stack.sql<{ id: string }>(
      `INSERT INTO notifications (team, template_key, template_version, priority, recipient_count)
       VALUES ('bench', 'bench', 1, 'normal', $1) RETURNING id`,
      [messages],
    );
    await stack.sql(
      `INSERT INTO messages (notification_id, recipient, body, characters, encoding, segments,
         status, priority, provider_message_id, queued_at)
       SELECT $1, '+1415555' || lpad((100 + i % 9000)::text, 4, '0'), 'Your order has shipped',
         22, 'GSM-7', 1, 'queued', 2, 'msg_bench_' || i, now()
       FROM generate_series(0, $2 - 1) AS i`,
      [notification.id, messages],
    );
    await stack.sql('ANALYZE messages');
    const seedS = (Date.now() - seedStarted) / 1000;
    const signed = Array.from({ length: messages }, (_, i) => sign(i));
    const before = await running.stats(true);

    let cursor = 0;
    const fresh = (): Signed | null => (cursor < messages ? signed[cursor++] : null);
    const applied: number[] = [];
    let replayCursor = 0;
    const replay = (): Signed | null =>
      applied.length ? signed[applied[replayCursor++ % applied.length]] : null;

    const results: PhaseResult[] = [];
    for (const phase of webhookPhases(seconds)) {
      progress(`${phase.name}, ${phase.connections} connections, ${phase.seconds} s`);
      const result = await runPhase(
        phase,
        port,
        phase.kind === 'replay' ? replay : fresh,
        () => running.stats(),
        stack.databaseName,
      );
      if (phase.kind !== 'replay') applied.push(...result.acknowledged);
      results.push(result);
    }
    const after = await running.stats(true);

    // Every message whose event was acknowledged: delivered, with exactly one delivered row.
    const [check] = await stack.sql<{
      acknowledged: number;
      delivered: number;
      exactly_one: number;
    }>(
      `SELECT count(*)::int AS acknowledged,
              count(*) FILTER (WHERE m.status = 'delivered')::int AS delivered,
              count(*) FILTER (WHERE e.n = 1)::int AS exactly_one
       FROM messages m
       LEFT JOIN (SELECT message_id, count(*) AS n FROM message_events
                  WHERE type = 'delivered' GROUP BY message_id) e ON e.message_id = m.id
       WHERE m.provider_message_id = ANY($1::text[])`,
      [applied.map(providerId)],
    );
    const inDoubt = new Set(results.flatMap((r) => r.inDoubt));
    // Every message never sent an event (or whose answer was lost) must be untouched or delivered.
    const [untouched] = await stack.sql<{ queued: number; delivered: number; events: number }>(
      `SELECT count(*) FILTER (WHERE status = 'queued')::int AS queued,
              count(*) FILTER (WHERE status = 'delivered')::int AS delivered,
              (SELECT count(*)::int FROM message_events) AS events
       FROM messages`,
    );
    const [parked] = await stack.sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM pending_provider_events`,
    );
    const problems: string[] = [];
    if (check.delivered !== check.acknowledged || check.exactly_one !== check.acknowledged) {
      problems.push(
        `webhooks: ${check.acknowledged} events acknowledged but ${check.delivered} messages delivered and ${check.exactly_one} with exactly one 'delivered' row`,
      );
    }
    if (untouched.delivered > check.acknowledged + inDoubt.size) {
      problems.push(
        `webhooks: ${untouched.delivered} messages delivered, more than the ${check.acknowledged} acknowledged and ${inDoubt.size} in doubt`,
      );
    }
    if (untouched.queued + untouched.delivered !== messages) {
      problems.push(
        `webhooks: ${messages - untouched.queued - untouched.delivered} messages neither queued nor delivered`,
      );
    }
    return {
      messages,
      seedS,
      phases: results.filter((r) => r.phase.kind !== 'warm-up').map(figures),
      check: {
        acknowledged: check.acknowledged,
        delivered: check.delivered,
        exactlyOne: check.exactly_one,
        allDelivered: untouched.delivered,
        stillQueued: untouched.queued,
        neverSent: messages - cursor,
        inDoubt: inDoubt.size,
        eventRows: untouched.events,
        parked: parked.n,
      },
      memory: { before, after },
      processes: [peakOf('webhooks / api', 'service', after, true)],
      problems,
    };
  } finally {
    await service?.close();
    await stack.cleanup();
  }
}

function figures(r: PhaseResult): PhaseFigures {
  return {
    phase: r.phase,
    requests: r.requests,
    elapsedS: r.elapsedS,
    perSecond: r.requests / r.elapsedS,
    p50Ms: percentile(r.latencies, 50),
    p90Ms: percentile(r.latencies, 90),
    p99Ms: percentile(r.latencies, 99),
    maxMs: r.latencies.reduce((a, b) => Math.max(a, b), 0),
    non2xx: r.non2xx,
    errors: r.errors,
    outcomes: r.outcomes,
    serviceCores: r.serviceCpuS / r.elapsedS,
    generatorCores: r.clientCpuS / r.elapsedS,
    postgresCores: r.postgresCores,
    boxCores: r.boxCores,
    loadAvg: r.loadAvg,
    ranOut: r.ranOut,
  };
}

export const WEBHOOK_TABLE_HEADER = [
  '| phase | connections | s | events | events/s | p50 ms | p90 ms | p99 ms | max ms | non-2xx | errors | outcomes | CPU cores: service / generator / its PG backends / whole box | load avg 1 min |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|',
];

export function webhookRow(r: PhaseFigures): string {
  const outcomes = Object.entries(r.outcomes)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return `| ${r.phase.name}${r.ranOut ? ' (ran out of messages)' : ''} | ${r.phase.connections} | ${fmt(r.elapsedS, 1)} | ${r.requests} | ${fmt(r.perSecond)} | ${fmt(r.p50Ms, 1)} | ${fmt(r.p90Ms, 1)} | ${fmt(r.p99Ms, 1)} | ${fmt(r.maxMs, 1)} | ${r.non2xx} | ${r.errors} | ${outcomes} | ${fmt(r.serviceCores, 2)} / ${fmt(r.generatorCores, 2)} / ${fmt(r.postgresCores, 2)} / ${fmt(r.boxCores, 2)} | ${fmt(r.loadAvg, 1)} |`;
}

/** The check and the memory lines, as the script prints them. */
export function webhookCheckLines(r: WebhooksResult): string[] {
  const c = r.check;
  const { before, after } = r.memory;
  return [
    `Check: ${c.acknowledged} messages got a 2xx for their event (warm-up included); ${c.delivered} are delivered and ${c.exactlyOne} have exactly one 'delivered' event row (must all equal). Over the whole table: ${c.allDelivered} delivered, ${c.stillQueued} still queued (${c.neverSent} never sent an event, ${c.inDoubt} answered non-2xx/errored), ${c.eventRows} event rows, ${c.parked} parked events.`,
    `Service process (after a full GC each time): RSS ${fmt(before.rssMb)} MB and heap used ${fmt(before.heapUsedMb)} MB before the load, ${fmt(after.rssMb)} MB and ${fmt(after.heapUsedMb)} MB after; peak RSS ${fmt(after.peakRssMb)} MB.`,
  ];
}

async function main(): Promise<void> {
  const machineBefore = machineLine();
  // --profile: the service runs with --cpu-prof; the profile is left in bench/profiles/.
  const profileDir = join(__dirname, 'profiles');
  const r = await runWebhooks({
    execArgv: process.argv.includes('--profile')
      ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]
      : [],
  });
  console.log(
    `\nBefore: ${machineBefore}\nAfter:  ${machineLine()}\nOne service instance (APP_ROLE=api) in its own process; the load generator (this process) and PostgreSQL share the same 2 CPUs with it. ${r.messages} queued messages seeded by SQL in ${r.seedS.toFixed(1)} s.\n`,
  );
  console.log(WEBHOOK_TABLE_HEADER.join('\n'));
  for (const phase of r.phases) console.log(webhookRow(phase));
  console.log(`\n${webhookCheckLines(r).join('\n')}`);
  failOnProblems(r.problems);
}

runScript(module, main);
