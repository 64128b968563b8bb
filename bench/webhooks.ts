/*
 * Webhook receiver benchmark: how many signed provider status events per second one service
 * instance applies, at what latency, and whether each one lands exactly once.
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/webhooks.ts
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
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { generateTestWebhook } from '../libs/sms-provider/src/webhook-signature';
import {
  type BenchProcess,
  benchStack,
  cpuBetween,
  cpuSnapshot,
  fmt,
  machineLine,
  percentile,
  type ProcessStats,
  postOnce,
  startApiService,
  WEBHOOK_SECRET,
} from './support';

const SECONDS = Number(process.env.WEBHOOK_BENCH_SECONDS ?? 20);
const MESSAGES = Number(process.env.WEBHOOK_BENCH_MESSAGES ?? 80_000);
const REQUEST_TIMEOUT_MS = 10_000;

interface Phase {
  name: string;
  kind: 'warm-up' | 'first' | 'replay';
  connections: number;
  seconds: number;
}

const PHASES: Phase[] = [
  { name: 'warm-up', kind: 'warm-up', connections: 32, seconds: 2 },
  { name: 'first delivery', kind: 'first', connections: 32, seconds: SECONDS / 2 },
  { name: 'first delivery', kind: 'first', connections: 64, seconds: SECONDS },
  { name: 'replay (same events again)', kind: 'replay', connections: 64, seconds: SECONDS / 2 },
];

interface Signed {
  index: number;
  body: string;
  signature: string;
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

async function main(): Promise<void> {
  const machineBefore = machineLine();
  const stack = benchStack('webhooks');
  let service: BenchProcess | null = null;
  try {
    service = await startApiService(stack);
    const running = service;
    const port = Number(new URL(running.url).port);
    const seedStarted = Date.now();
    const [notification] = await stack.sql<{ id: string }>(
      `INSERT INTO notifications (team, template_key, template_version, priority, recipient_count)
       VALUES ('bench', 'bench', 1, 'normal', $1) RETURNING id`,
      [MESSAGES],
    );
    await stack.sql(
      `INSERT INTO messages (notification_id, recipient, body, characters, encoding, segments,
         status, priority, provider_message_id, queued_at)
       SELECT $1, '+1415555' || lpad((100 + i % 9000)::text, 4, '0'), 'Your order has shipped',
         22, 'GSM-7', 1, 'queued', 2, 'msg_bench_' || i, now()
       FROM generate_series(0, $2 - 1) AS i`,
      [notification.id, MESSAGES],
    );
    await stack.sql('ANALYZE messages');
    const seedS = (Date.now() - seedStarted) / 1000;
    const signed = Array.from({ length: MESSAGES }, (_, i) => sign(i));
    const before = await running.stats(true);

    let cursor = 0;
    const fresh = (): Signed | null => (cursor < MESSAGES ? signed[cursor++] : null);
    const applied: number[] = [];
    let replayCursor = 0;
    const replay = (): Signed | null =>
      applied.length ? signed[applied[replayCursor++ % applied.length]] : null;

    const results: PhaseResult[] = [];
    for (const phase of PHASES) {
      const result = await runPhase(
        phase,
        port,
        phase.kind === 'replay' ? replay : fresh,
        () => running.stats(),
        stack.databaseName,
      );
      if (phase.kind !== 'replay') applied.push(...result.acknowledged);
      results.push(result);
      process.stderr.write(`done: ${phase.name} × ${phase.connections}\n`);
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
    const notSent = MESSAGES - cursor;

    console.log(
      `\nBefore: ${machineBefore}\nAfter:  ${machineLine()}\nOne service instance (APP_ROLE=api) in its own process; the load generator (this process) and PostgreSQL share the same 2 CPUs with it. ${MESSAGES} queued messages seeded by SQL in ${seedS.toFixed(1)} s.\n`,
    );
    console.log(
      '| phase | connections | s | events | events/s | p50 ms | p90 ms | p99 ms | max ms | non-2xx | errors | outcomes | CPU cores: service / generator / its PG backends / whole box | load avg 1 min |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|');
    for (const r of results.filter((x) => x.phase.kind !== 'warm-up')) {
      const outcomes = Object.entries(r.outcomes)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      console.log(
        `| ${r.phase.name}${r.ranOut ? ' (ran out of messages)' : ''} | ${r.phase.connections} | ${fmt(r.elapsedS, 1)} | ${r.requests} | ${fmt(r.requests / r.elapsedS)} | ${fmt(percentile(r.latencies, 50), 1)} | ${fmt(percentile(r.latencies, 90), 1)} | ${fmt(percentile(r.latencies, 99), 1)} | ${fmt(
          r.latencies.reduce((a, b) => Math.max(a, b), 0),
          1,
        )} | ${r.non2xx} | ${r.errors} | ${outcomes} | ${fmt(r.serviceCpuS / r.elapsedS, 2)} / ${fmt(r.clientCpuS / r.elapsedS, 2)} / ${fmt(r.postgresCores, 2)} / ${fmt(r.boxCores, 2)} | ${fmt(r.loadAvg, 1)} |`,
      );
    }
    console.log(
      `\nCheck: ${check.acknowledged} messages got a 2xx for their event (warm-up included); ${check.delivered} are delivered and ${check.exactly_one} have exactly one 'delivered' event row (must all equal). Over the whole table: ${untouched.delivered} delivered, ${untouched.queued} still queued (${notSent} never sent an event, ${inDoubt.size} answered non-2xx/errored), ${untouched.events} event rows, ${parked.n} parked events.`,
    );
    console.log(
      `Service process (after a full GC each time): RSS ${fmt(before.rssMb)} MB and heap used ${fmt(before.heapUsedMb)} MB before the load, ${fmt(after.rssMb)} MB and ${fmt(after.heapUsedMb)} MB after; peak RSS ${fmt(after.peakRssMb)} MB.`,
    );
  } finally {
    await service?.close();
    await stack.cleanup();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
