/*
 * End-to-end sending benchmark: a backlog posted to the real notification service, sent through
 * the real queue, workers and shared throttle to the provider sandbox, measured from the sandbox's
 * own request log (arrival times at the provider).
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/pipeline.ts [scenario ...]
 *
 * Scenarios (default: all four, in this order):
 *   standard       10 req/s plan, one instance (APP_ROLE=all)
 *   standard-x2    10 req/s plan, two instances (all + worker) sharing database, Redis, sandbox
 *   enterprise     50 req/s plan, one instance
 *   enterprise-x2  50 req/s plan, two instances (all + worker)
 *
 * Every scenario gets a fresh sandbox (PIPELINE_LATENCY_MS on every request, 200 ms by default),
 * a fresh database and Redis prefix, and service processes of its own (bench/support.ts). It sends
 * first a trickle (single-recipient requests at 30% of the limit for 3 s: the pipeline's own
 * latency), then a backlog of limit × PIPELINE_BENCH_SECONDS messages in requests of up to 1000
 * recipients, and waits until every message is final (delivered through the sandbox's webhooks).
 * One recipient per request (SEND_BATCH_MAX=1, overridable by PIPELINE_SERVICE_ENV): the figure is
 * the throttle's, requests per second; bench/batching.ts measures many recipients per request.
 *
 * Env: PIPELINE_BENCH_SECONDS (default 20: 200 messages at 10/s, 1000 at 50/s),
 *      PIPELINE_LATENCY_MS (default 200), BENCH_PG_URL, BENCH_REDIS_URL,
 *      PIPELINE_SERVICE_ENV: extra service variables for every instance, `NAME=value,NAME=value`
 *      (e.g. THROTTLE_SAFETY_FACTOR=0.95 or SEND_CONCURRENCY=10).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { loadConfig } from '../apps/notification-service/src/config/load-config';
import { maxInSlidingWindow } from '../apps/notification-service/src/provider/throttle';
import {
  api,
  benchStack,
  failOnProblems,
  fmt,
  arrivals,
  machineLine,
  ONE_RECIPIENT_PER_REQUEST,
  openMessages,
  peakOf,
  percentile,
  type ProcessPeak,
  type ProcessStats,
  type Progress,
  recipients,
  providerRecords,
  type BenchProcess,
  runScript,
  startSandboxProcess,
  startService,
  stderrProgress,
  waitFor,
} from './support';

const SECONDS = Number(process.env.PIPELINE_BENCH_SECONDS ?? 20);
const LATENCY_MS = Number(process.env.PIPELINE_LATENCY_MS ?? 200);
const TRICKLE_SECONDS = 3;
const TRICKLE_SHARE = 0.3;
const SERVICE_ENV: Record<string, string> = Object.fromEntries(
  (process.env.PIPELINE_SERVICE_ENV ?? '')
    .split(',')
    .filter((pair) => pair.includes('='))
    .map((pair) => [pair.slice(0, pair.indexOf('=')).trim(), pair.slice(pair.indexOf('=') + 1)]),
);
const MAX_RECIPIENTS = 1000;

export interface Scenario {
  name: string;
  plan: 'standard' | 'enterprise';
  instances: 1 | 2;
}

export const SCENARIOS: Scenario[] = [
  { name: 'standard', plan: 'standard', instances: 1 },
  { name: 'standard-x2', plan: 'standard', instances: 2 },
  { name: 'enterprise', plan: 'enterprise', instances: 1 },
  { name: 'enterprise-x2', plan: 'enterprise', instances: 2 },
];

export interface PipelineOptions {
  /** Scenario names; all of SCENARIOS by default. */
  scenarios?: string[];
  /** Backlog: this many seconds' worth of the limit. */
  seconds?: number;
  /** The sandbox's delay before it answers each request. */
  latencyMs?: number;
  /** Extra service variables for every instance. */
  serviceEnv?: Record<string, string>;
  progress?: Progress;
}

export interface PipelineResult {
  seconds: number;
  latencyMs: number;
  serviceEnv: Record<string, string>;
  /** The throttle's safety factor in effect (the service's own config). */
  safetyFactor: number;
  /**
   * What the throttle allows at this latency: min(safety factor, 1000 / (1000 + latency)). A
   * call counts from when it leaves until the provider answered it, plus the 1 s window (the
   * provider may count it anywhere in between), so `limit` calls take a second plus one
   * response time.
   */
  utilisationBound: number;
  rows: Row[];
  problems: string[];
}

export interface Row {
  scenario: Scenario;
  /** Achieved rate ÷ limit over the backlog. */
  utilisation: number;
  limit: number;
  concurrency: string;
  messages: number;
  sends: number;
  rateLimited: number;
  otherErrors: number;
  otherRequests: number;
  maxInSecond: number;
  rate: number;
  /** First to last backlog send at the provider, seconds. */
  spanS: number;
  /** From the first backlog POST to the last message final, seconds. */
  drainS: number;
  backlogP50: number;
  backlogP95: number;
  trickleN: number;
  trickleP50: number;
  trickleP95: number;
  duplicates: number;
  notDelivered: number;
  sendsPerInstance: number[];
  memory: { before: ProcessStats; after: ProcessStats }[];
  pairingSlackMs: number;
  tightestSpanMs: number;
  /** Requests that start a 1 s window holding more than the limit. */
  overLimitWindows: number;
  /** Gaps (ms) between the limit + 1 requests of the tightest span, when it is under 1000 ms. */
  tightestGaps: number[] | null;
  sandbox: ProcessStats;
  processes: ProcessPeak[];
}

/** Shortest time covered by limit + 1 consecutive requests, and the gaps inside it. */
function tightestSpan(
  times: number[],
  limit: number,
): { spanMs: number; gaps: number[]; overLimit: number } {
  const sorted = [...times].sort((a, b) => a - b);
  let best = Number.POSITIVE_INFINITY;
  let at = 0;
  let overLimit = 0;
  for (let i = 0; i + limit < sorted.length; i += 1) {
    if (sorted[i + limit] - sorted[i] < 1000) overLimit += 1;
    if (sorted[i + limit] - sorted[i] < best) {
      best = sorted[i + limit] - sorted[i];
      at = i;
    }
  }
  const gaps = sorted.slice(at + 1, at + limit + 1).map((t, j) => t - sorted[at + j]);
  return { spanMs: best, gaps, overLimit };
}

interface Accepted {
  id: string;
  messages: { id: string; to: string; status: string }[];
}

async function post(url: string, to: string[], acceptedAt: Map<string, number>): Promise<void> {
  const res = await api<Accepted>(url, 'POST', '/v1/notifications', {
    template: 'bench',
    to: to.length === 1 ? to[0] : to,
    variables: { n: to.length },
  });
  if (res.status !== 202) throw new Error(`POST /v1/notifications: ${res.status}`);
  const now = Date.now();
  for (const m of res.body.messages) acceptedAt.set(m.to, now);
}

async function sendsByInstance(instances: BenchProcess[]): Promise<number[]> {
  return Promise.all(
    instances.map(async (instance) => {
      const text = await (await fetch(`${instance.url}/metrics`)).text();
      const line = text
        .split('\n')
        .find(
          (l) =>
            l.startsWith('notify_provider_requests_total{') &&
            l.includes('operation="send"') &&
            l.includes('outcome="ok"'),
        );
      return line ? Number(line.split(' ').pop()) : 0;
    }),
  );
}

async function runScenario(
  scenario: Scenario,
  {
    seconds,
    latencyMs,
    serviceEnv,
  }: Required<Pick<PipelineOptions, 'seconds' | 'latencyMs' | 'serviceEnv'>>,
  progress: Progress,
): Promise<Row> {
  const limit = scenario.plan === 'standard' ? 10 : 50;
  const key = `sk_bench_${scenario.plan}`;
  const sandbox = await startSandboxProcess({
    port: 0,
    apiKeys: `${key}:${scenario.plan}:10000000`,
    latencyMs,
    sentDelayMs: 50,
    deliveredDelayMs: 100,
  });
  const stack = benchStack(`pipe_${scenario.name}`);
  const instances: BenchProcess[] = [];
  try {
    const common = {
      stack,
      providerUrl: sandbox.url,
      providerKey: key,
      plan: scenario.plan,
      env: serviceEnv,
    };
    progress(`${scenario.name}: starting ${scenario.instances} instance(s)`);
    const first = await startService(common);
    instances.push(first);
    if (scenario.instances === 2) {
      // Worker only: the webhooks (and the caller's requests) go to the first instance.
      instances.push(await startService({ ...common, role: 'worker', publicBaseUrl: first.url }));
    }
    const template = await api(first.url, 'POST', '/v1/templates', {
      key: 'bench',
      body: 'Your order {{n}} has shipped',
    });
    if (template.status !== 201) throw new Error(`template: ${template.status}`);
    const before = await Promise.all(instances.map((i) => i.stats(true)));
    await sandbox.stats(); // resets its event-loop delay histogram

    const acceptedAt = new Map<string, number>();
    let next = 100;
    const take = (count: number): string[] => {
      const out = recipients(next, count);
      next = Number(out[out.length - 1].slice(-4)) + 1;
      return out;
    };

    // Trickle: one recipient per request at 30% of the limit.
    progress(`${scenario.name}: trickle ${TRICKLE_SECONDS} s`);
    const trickleStart = Date.now();
    const trickle = take(Math.ceil(TRICKLE_SHARE * limit * TRICKLE_SECONDS));
    const gapMs = 1000 / (TRICKLE_SHARE * limit);
    for (let i = 0; i < trickle.length; i += 1) {
      await delay(Math.max(0, trickleStart + i * gapMs - Date.now()));
      await post(first.url, [trickle[i]], acceptedAt);
    }
    await waitFor(async () => (await openMessages(stack)) === 0, {
      what: 'trickle final',
      timeoutMs: 30_000,
      intervalMs: 100,
    });

    // Backlog.
    progress(`${scenario.name}: backlog of ${limit * seconds} messages`);
    const backlog = take(limit * seconds);
    const backlogStart = Date.now();
    for (let i = 0; i < backlog.length; i += MAX_RECIPIENTS) {
      await post(first.url, backlog.slice(i, i + MAX_RECIPIENTS), acceptedAt);
    }
    await waitFor(async () => (await openMessages(stack)) === 0, {
      what: 'backlog final',
      timeoutMs: seconds * 4000 + 30_000,
      intervalMs: 100,
    });
    const drainS = (Date.now() - backlogStart) / 1000;
    const after = await Promise.all(instances.map((i) => i.stats(true)));
    const sendsPerInstance = await sendsByInstance(instances);

    const { log, messages } = await providerRecords(sandbox.adminUrl, key);
    const { byRecipient, slackMs } = arrivals(log, messages, latencyMs);
    const tight = tightestSpan(
      log.map((r) => r.at),
      limit,
    );
    const latency = (list: string[]): number[] =>
      list.map((to) => (byRecipient.get(to) ?? Number.NaN) - (acceptedAt.get(to) ?? Number.NaN));

    const backlogLog = log.filter((r) => r.at >= backlogStart);
    const backlogSends = backlogLog
      .filter((r) => r.method === 'POST' && r.path === '/v1/messages')
      .map((r) => r.at)
      .sort((a, b) => a - b);
    const spanS = (backlogSends[backlogSends.length - 1] - backlogSends[0]) / 1000;
    const perRecipient = new Map<string, number>();
    for (const m of messages) perRecipient.set(m.to, (perRecipient.get(m.to) ?? 0) + 1);
    const statuses = await stack.sql<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM messages GROUP BY status`,
    );
    const delivered = statuses.find((s) => s.status === 'delivered')?.n ?? 0;

    const sandboxStats = await sandbox.stats();
    const rate = (backlogSends.length - 1) / spanS;
    return {
      scenario,
      utilisation: rate / limit,
      limit,
      concurrency: String(
        loadConfig({ ...serviceEnv, SMS_PROVIDER_PLAN: scenario.plan }).sending.concurrency,
      ),
      messages: backlog.length,
      sends: backlogSends.length,
      rateLimited: backlogLog.filter((r) => r.status === 429).length,
      otherErrors: backlogLog.filter((r) => r.status !== 200 && r.status !== 429).length,
      otherRequests: backlogLog.filter((r) => !(r.method === 'POST' && r.path === '/v1/messages'))
        .length,
      maxInSecond: maxInSlidingWindow(
        log.map((r) => r.at),
        1000,
      ),
      rate,
      spanS,
      drainS,
      backlogP50: percentile(latency(backlog), 50),
      backlogP95: percentile(latency(backlog), 95),
      trickleN: trickle.length,
      trickleP50: percentile(latency(trickle), 50),
      trickleP95: percentile(latency(trickle), 95),
      duplicates: [...perRecipient.values()].filter((n) => n > 1).length,
      notDelivered: trickle.length + backlog.length - delivered,
      sendsPerInstance,
      memory: before.map((b, i) => ({ before: b, after: after[i] })),
      pairingSlackMs: slackMs,
      tightestSpanMs: tight.spanMs,
      overLimitWindows: tight.overLimit,
      tightestGaps: tight.spanMs < 1000 ? tight.gaps : null,
      sandbox: sandboxStats,
      processes: [
        ...after.map((stats, i) =>
          peakOf(
            `pipeline ${scenario.name} @${latencyMs} ms / ${i === 0 ? 'all' : 'worker'} ${i + 1}`,
            'service',
            stats,
            true,
          ),
        ),
        peakOf(`pipeline ${scenario.name} @${latencyMs} ms / sandbox`, 'sandbox', sandboxStats),
      ],
    };
  } finally {
    for (const instance of [...instances].reverse()) await instance.close();
    await sandbox.close();
    await stack.cleanup();
  }
}

function loop(stats: ProcessStats): string {
  const { p50, p99, max } = stats.loopDelay;
  return `${fmt(p50, 1)} / ${fmt(p99, 1)} / ${fmt(max, 1)}`;
}

/** The figures as markdown lines: the scenario table, the process table, remarks. */
export function pipelineLines(result: PipelineResult): string[] {
  const { rows } = result;
  const out: string[] = [];
  out.push(
    '| scenario | limit/s | worker concurrency | backlog msgs | sends | 429s | other non-2xx | max in any sliding 1 s | windows over the limit | tightest span of limit+1 requests ms | achieved/s (first→last send) | utilisation | drain s | accept→provider p50 / p95 ms (backlog) | accept→provider p50 / p95 ms (trickle) | duplicates | not delivered |',
  );
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    out.push(
      `| ${r.scenario.name} | ${r.limit} | ${r.concurrency} × ${r.scenario.instances} | ${r.messages} | ${r.sends} | ${r.rateLimited} | ${r.otherErrors} | ${r.maxInSecond} | ${r.overLimitWindows} | ${fmt(r.tightestSpanMs)} | ${fmt(r.rate, 2)} | ${fmt((100 * r.rate) / r.limit, 1)}% | ${fmt(r.drainS, 1)} | ${fmt(r.backlogP50)} / ${fmt(r.backlogP95)} | ${fmt(r.trickleP50)} / ${fmt(r.trickleP95)} (n=${r.trickleN}) | ${r.duplicates} | ${r.notDelivered} |`,
    );
  }
  out.push(
    '\n| scenario | instance | sends by this instance | RSS after start MB | RSS after drain MB | peak RSS MB | heap used after start / drain MB | CPU s during run | event-loop delay p50 / p99 / max ms |',
  );
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    r.memory.forEach((m, i) => {
      out.push(
        `| ${r.scenario.name} | ${i + 1} | ${r.sendsPerInstance[i]} | ${fmt(m.before.rssMb)} | ${fmt(m.after.rssMb)} | ${fmt(m.after.peakRssMb)} | ${fmt(m.before.heapUsedMb)} / ${fmt(m.after.heapUsedMb)} | ${fmt((m.after.cpuMs - m.before.cpuMs) / 1000, 1)} | ${loop(m.after)} |`,
      );
    });
  }
  for (const r of rows) {
    if (r.tightestGaps) {
      out.push(
        `${r.scenario.name}: the ${r.limit + 1} requests within ${fmt(r.tightestSpanMs, 1)} ms arrived with gaps (ms) ${r.tightestGaps.map((g) => g.toFixed(1)).join(' ')}`,
      );
    }
  }
  out.push(
    `Sandbox process (whole scenario): ${rows.map((r) => `${r.scenario.name} CPU ${fmt(r.sandbox.cpuMs / 1000, 1)} s, event-loop delay ${loop(r.sandbox)} ms`).join('; ')}.`,
  );
  out.push(
    `\nOther provider requests during the backlogs (polls, account checks): ${rows.map((r) => `${r.scenario.name} ${r.otherRequests}`).join(', ')}. Arrival pairing slack (|created_at − arrival − latency|, max): ${rows.map((r) => `${fmt(r.pairingSlackMs)} ms`).join(', ')}.`,
  );
  out.push(
    `Throttle bound at ${result.latencyMs} ms provider latency: min(safety factor ${result.safetyFactor}, 1000 / (1000 + ${result.latencyMs})) = ${fmt(100 * result.utilisationBound, 1)}%.`,
  );
  return out;
}

export async function runPipeline(options: PipelineOptions = {}): Promise<PipelineResult> {
  const {
    scenarios = SCENARIOS.map((s) => s.name),
    seconds = SECONDS,
    latencyMs = LATENCY_MS,
    serviceEnv = SERVICE_ENV,
    progress = stderrProgress,
  } = options;
  const env = { ...ONE_RECIPIENT_PER_REQUEST, ...serviceEnv };
  const chosen = SCENARIOS.filter((s) => scenarios.includes(s.name));
  if (chosen.length === 0 || chosen.length !== scenarios.length)
    throw new Error(`unknown scenario; pick from ${SCENARIOS.map((s) => s.name).join(', ')}`);
  const rows: Row[] = [];
  for (const scenario of chosen) {
    rows.push(await runScenario(scenario, { seconds, latencyMs, serviceEnv: env }, progress));
  }
  const safetyFactor = loadConfig({ ...env }).sending.throttleSafetyFactor;
  const problems = rows.flatMap((r) => [
    ...(r.duplicates > 0
      ? [`pipeline ${r.scenario.name} @${latencyMs} ms: ${r.duplicates} recipients sent twice`]
      : []),
    ...(r.notDelivered > 0
      ? [`pipeline ${r.scenario.name} @${latencyMs} ms: ${r.notDelivered} messages not delivered`]
      : []),
  ]);
  return {
    seconds,
    latencyMs,
    serviceEnv: env,
    safetyFactor,
    utilisationBound: Math.min(safetyFactor, 1000 / (1000 + latencyMs)),
    rows,
    problems,
  };
}

async function main(): Promise<void> {
  Logger.overrideLogger(false);
  const machineBefore = machineLine();
  const wanted = process.argv.slice(2);
  const result = await runPipeline(wanted.length ? { scenarios: wanted } : {});
  console.log(
    `\nBefore: ${machineBefore}\nAfter:  ${machineLine()}\nProvider latency ${result.latencyMs} ms, backlog ${result.seconds} s worth at each limit, trickle ${TRICKLE_SECONDS} s at ${TRICKLE_SHARE * 100}% of the limit, service env ${JSON.stringify(result.serviceEnv)}.\n`,
  );
  console.log(pipelineLines(result).join('\n'));
  failOnProblems(result.problems);
}

runScript(module, main);
