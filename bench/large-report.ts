/*
 * The largest delivery report the service answers, and the refusal of one too large (issue 17,
 * class 1): wall time, the service's event-loop stall, its memory, and how a health check fares
 * while the report runs.
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/large-report.ts
 *
 * One APP_ROLE=api instance in its own process (compiled, with the Docker image's heap cap; see
 * bench/support.ts), a fresh database seeded by SQL:
 * - team `largest`: 25 templates with 2 delivered messages in every hour of a 400-hour window,
 *   so `group_by=template,hour` over it is exactly MAX_REPORT_ROWS (10,000) rows, every one of
 *   them an aggregated group (nothing zero-filled: the most work per row);
 * - team `attack`: the attack, 300 templates with a message every hour of 30 days
 *   (216,000 messages); `group_by=template,hour` over those days would be 216,000 rows.
 * Each case is asked LARGE_REPORT_COUNT times one after another (after one warm-up), with a
 * team key holding reports:read. While a report runs, a second connection asks GET /health/live
 * every 10 ms. The event-loop figure is the service's own: the lateness of a 10 ms timer inside
 * its process (tools/stack measure), reset before each request.
 *
 * Env: LARGE_REPORT_COUNT (timed requests per case, default 10).
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import {
  api,
  type BenchProcess,
  benchStack,
  type BenchStack,
  failOnProblems,
  fmt,
  machineLine,
  peakOf,
  percentile,
  type ProcessPeak,
  type Progress,
  runScript,
  startApiService,
  stderrProgress,
} from './support';

const COUNT = Number(process.env.LARGE_REPORT_COUNT ?? 10);
const HOUR_MS = 3_600_000;
const LARGEST_SINCE = '2025-08-01T00:00:00.000Z';
const LARGEST_HOURS = 400;
const LARGEST_TEMPLATES = 25;
const ATTACK_TEMPLATES = 300;
const ATTACK_DAYS = 30;

interface Case {
  name: string;
  team: string;
  path: string;
  status: number;
}

const until = new Date(Date.parse(LARGEST_SINCE) + LARGEST_HOURS * HOUR_MS).toISOString();
const CASES: Case[] = [
  {
    name: 'largest allowed, JSON (25 templates × 400 hours = 10,000 rows)',
    team: 'largest',
    path: `/v1/reports/delivery?since=${LARGEST_SINCE}&until=${until}&group_by=template,hour`,
    status: 200,
  },
  {
    name: 'largest allowed, CSV',
    team: 'largest',
    path: `/v1/reports/delivery?since=${LARGEST_SINCE}&until=${until}&group_by=template,hour&format=csv`,
    status: 200,
  },
  {
    name: 'the attack, refused (300 templates × 720 hours = 216,000 rows)',
    team: 'attack',
    path: '/v1/reports/delivery?since=2025-06-01T00:00:00Z&until=2025-07-01T00:00:00Z&group_by=template,hour',
    status: 422,
  },
];

export interface ReportCaseResult {
  name: string;
  status: number;
  answerBytes: number;
  timedMs: number[];
  p50Ms: number;
  maxMs: number;
  /** Largest lateness of the service's 10 ms timer during one request, over all requests. */
  maxLoopDelayMs: number;
  /** Slowest /health/live answer while a report ran, and how many were asked. */
  healthMaxMs: number;
  healthProbes: number;
  /** Service heap used right after an answer minus after a full GC before it, largest. */
  maxHeapGrowthMb: number;
  /** Service RSS right after an answer minus before it, largest. */
  maxRssGrowthMb: number;
}

export interface LargeReportResult {
  messages: number;
  cases: ReportCaseResult[];
  processes: ProcessPeak[];
  problems: string[];
}

function get(
  agent: Agent,
  port: number,
  path: string,
  key: string | null,
): Promise<{ status: number; bytes: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        path,
        headers: key ? { authorization: `Bearer ${key}` } : {},
        timeout: 60_000,
      },
      (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, bytes, ms: performance.now() - t0 }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Every hour of [since, since + hours), `perHour` delivered messages per template of `team`. */
async function seed(
  stack: BenchStack,
  team: string,
  templates: number,
  since: string,
  hours: number,
  perHour: number,
): Promise<void> {
  await stack.sql(
    `WITH n AS (
       INSERT INTO notifications (team, template_key, template_version, priority, recipient_count)
       SELECT $1, $1 || '_' || lpad(i::text, 3, '0'), 1, 'normal', 1 FROM generate_series(1, $2) i
       RETURNING id
     )
     INSERT INTO messages (notification_id, recipient, body, characters, encoding, segments,
       status, priority, submitted_at, queued_at, delivered_at, provider_message_id, next_attempt_at)
     SELECT n.id, '+14155550100', 'report bench', 12, 'GSM-7', 1, 'delivered', 2, at,
       at + interval '1 second', at + (2 + random() * 8) * interval '1 second',
       'msg_report_bench_' || gen_random_uuid(), '2099-01-01T00:00:00Z'
     FROM n, generate_series(0, $4::int * $5::int - 1) k,
       LATERAL (SELECT $3::timestamptz + (k / $5::int) * interval '1 hour'
         + (k % $5::int) * interval '1 minute' AS at) t`,
    [team, templates, since, hours, perHour],
  );
}

async function runCase(
  service: BenchProcess,
  port: number,
  key: string,
  c: Case,
  count: number,
): Promise<ReportCaseResult> {
  const reportAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  const healthAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  const result: ReportCaseResult = {
    name: c.name,
    status: 0,
    answerBytes: 0,
    timedMs: [],
    p50Ms: 0,
    maxMs: 0,
    maxLoopDelayMs: 0,
    healthMaxMs: 0,
    healthProbes: 0,
    maxHeapGrowthMb: 0,
    maxRssGrowthMb: 0,
  };
  try {
    await get(reportAgent, port, c.path, key); // warm-up
    await get(healthAgent, port, '/health/live', null);
    for (let i = 0; i < count; i += 1) {
      const before = await service.stats(true);
      let running = true;
      const probe = (async () => {
        while (running) {
          const health = await get(healthAgent, port, '/health/live', null);
          result.healthProbes += 1;
          result.healthMaxMs = Math.max(result.healthMaxMs, health.ms);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      })();
      const answer = await get(reportAgent, port, c.path, key);
      running = false;
      await probe;
      const after = await service.stats(false);
      result.status = answer.status;
      result.answerBytes = answer.bytes;
      result.timedMs.push(answer.ms);
      result.maxLoopDelayMs = Math.max(result.maxLoopDelayMs, after.loopDelay.max);
      result.maxHeapGrowthMb = Math.max(
        result.maxHeapGrowthMb,
        after.heapUsedMb - before.heapUsedMb,
      );
      result.maxRssGrowthMb = Math.max(result.maxRssGrowthMb, after.rssMb - before.rssMb);
    }
    result.p50Ms = percentile(result.timedMs, 50);
    result.maxMs = Math.max(...result.timedMs);
    return result;
  } finally {
    reportAgent.destroy();
    healthAgent.destroy();
  }
}

export async function runLargeReport(
  options: { count?: number; progress?: Progress } = {},
): Promise<LargeReportResult> {
  const { count = COUNT, progress = stderrProgress } = options;
  const stack = benchStack('large_report');
  let service: BenchProcess | null = null;
  try {
    progress('starting one api instance');
    service = await startApiService(stack);
    const port = Number(new URL(service.url).port);
    progress('seeding messages by SQL');
    await seed(stack, 'largest', LARGEST_TEMPLATES, LARGEST_SINCE, LARGEST_HOURS, 2);
    await seed(stack, 'attack', ATTACK_TEMPLATES, '2025-06-01T00:00:00Z', ATTACK_DAYS * 24, 1);
    await stack.sql('ANALYZE');
    const [{ messages }] = await stack.sql<{ messages: number }>(
      'SELECT count(*)::int AS messages FROM messages',
    );
    const keys = new Map<string, string>();
    for (const team of ['largest', 'attack']) {
      const created = await api<{ key: string }>(service.url, 'POST', '/v1/api-keys', {
        name: `${team}-reports`,
        team,
        scopes: ['reports:read'],
      });
      if (created.status !== 201) throw new Error(`api key: ${created.status}`);
      keys.set(team, created.body.key);
    }
    const cases: ReportCaseResult[] = [];
    const problems: string[] = [];
    for (const c of CASES) {
      progress(`${c.name}: ${count} requests`);
      const r = await runCase(service, port, keys.get(c.team) ?? '', c, count);
      if (r.status !== c.status) problems.push(`${c.name}: HTTP ${r.status}, expected ${c.status}`);
      cases.push(r);
    }
    const stats = await service.stats(true);
    return {
      messages,
      cases,
      processes: [peakOf('large report / api', 'service', stats, true)],
      problems,
    };
  } finally {
    await service?.close();
    await stack.cleanup();
  }
}

export function largeReportLines(r: LargeReportResult): string[] {
  const peak = r.processes[0];
  return [
    '| case | status | answer | p50 ms | max ms | service event-loop stall max ms | /health/live max ms (probes) | heap growth max MB | RSS growth max MB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.cases.map(
      (c) =>
        `| ${c.name} | ${c.status} | ${fmt(c.answerBytes / 1e6, 2)} MB | ${fmt(c.p50Ms, 1)} | ${fmt(c.maxMs, 1)} | ${fmt(c.maxLoopDelayMs, 1)} | ${fmt(c.healthMaxMs, 1)} (${c.healthProbes}) | ${fmt(c.maxHeapGrowthMb, 1)} | ${fmt(c.maxRssGrowthMb, 1)} |`,
    ),
    '',
    `${r.messages.toLocaleString('en-US')} messages in the database. Service peak RSS over the whole run ${fmt(peak?.peakRssMb ?? Number.NaN)} MB, heap used after a final GC ${fmt(peak?.heapUsedMb ?? Number.NaN)} MB.`,
  ];
}

async function main(): Promise<void> {
  const machineBefore = machineLine();
  const r = await runLargeReport();
  console.log(machineBefore);
  console.log(
    `GET /v1/reports/delivery, ${COUNT} timed requests per case one after another after one warm-up, APP_ROLE=api, compiled, production NODE_OPTIONS.\n`,
  );
  console.log(largeReportLines(r).join('\n'));
  failOnProblems(r.problems);
}

runScript(module, main);
