/*
 * Many recipients per provider request (issue #21): how many recipients a second reach the
 * provider on the standard plan (10 requests/s) when messages that would put the same body on the
 * wire share a `POST /messages` with `to: [...]`. Everything runs for real: the service sends
 * through its queue, workers and shared throttle to the provider sandbox, and every figure comes
 * from the sandbox (its request log: one entry per HTTP request; its admin view: one row per
 * recipient, a request's recipients sharing one message id).
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/batching.ts [scenario ...] [--profile]
 *
 * Scenarios (default: all three, in this order):
 *   broadcast   10 notifications × 1,000 recipients of one template and the same variables,
 *               posted together (10 concurrent POSTs): 10,000 recipients, one text
 *   one-by-one  1,000 one-recipient notifications of one template, the same variables, posted
 *               one by one by BATCHING_POSTERS concurrent posters as fast as they are answered
 *   baseline    the same one-by-one posting with SEND_BATCH_MAX=1 (one request per message, the
 *               service before batching), BATCHING_BASELINE_COUNT notifications
 *
 * Per scenario a fresh sandbox process (BATCHING_LATENCY_MS before each answer), database, Redis
 * prefix and one service process (APP_ROLE=all, default settings but for the baseline's
 * SEND_BATCH_MAX=1); one warm-up message of another text, delivered before the clock starts.
 * Recipients per second = recipients ÷ (the last recipient's arrival at the provider − the first
 * POST). Every recipient is checked to be at the provider exactly once and delivered.
 *
 * --profile: a CPU profile of the service process per scenario, in bench/profiles/ (not committed).
 *
 * Env: BATCHING_LATENCY_MS (200), BATCHING_POSTERS (8), BATCHING_BASELINE_COUNT (200),
 * BATCHING_MAX_LOAD (2: each scenario waits up to 3 min for the 1-minute load average to drop
 * below it, and records it), BATCHING_SENT_DELAY_MS (50) and BATCHING_DELIVERED_DELAY_MS (100):
 * when the sandbox reports each recipient sent and delivered, BATCHING_FINAL_TIMEOUT_MS (180000:
 * how long every message may take to be final), BENCH_PG_URL, BENCH_REDIS_URL.
 */
import { Agent } from 'node:http';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { loadConfig } from '../apps/notification-service/src/config/load-config';
import { UNSENT_STATUSES } from '../apps/notification-service/src/delivery-status/message-status';
import {
  ADMIN_KEY,
  api,
  arrivals,
  type BenchProcess,
  benchStack,
  type BenchStack,
  cpuBetween,
  cpuSnapshot,
  failOnProblems,
  fmt,
  machineLine,
  ONE_RECIPIENT_PER_REQUEST,
  openMessages,
  peakOf,
  percentile,
  type ProcessPeak,
  type Progress,
  postOnce,
  providerRecords,
  recipients,
  runScript,
  startSandboxProcess,
  startService,
  stderrProgress,
  waitFor,
  waitForQuiet,
} from './support';

const number = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const LATENCY_MS = number('BATCHING_LATENCY_MS', 200);
const POSTERS = number('BATCHING_POSTERS', 8);
const BASELINE_COUNT = number('BATCHING_BASELINE_COUNT', 200);
const MAX_LOAD = number('BATCHING_MAX_LOAD', 2);
const MAX_LOAD_WAIT_MS = 180_000;
const FINAL_TIMEOUT_MS = number('BATCHING_FINAL_TIMEOUT_MS', 180_000);
// When the sandbox reports each recipient sent and delivered (a webhook each): later than the
// broadcast takes, they keep the webhooks off the box while it is measured (a profile).
const SENT_DELAY_MS = number('BATCHING_SENT_DELAY_MS', 50);
const DELIVERED_DELAY_MS = number('BATCHING_DELIVERED_DELAY_MS', 100);
const PROFILE_DIR = join(__dirname, 'profiles');
const TEMPLATE_BODY =
  'Planned maintenance on {{day}} from {{from}} to {{to}}: {{service}} is down.';
const VARIABLES = { day: 'Sunday', from: '02:00', to: '04:00', service: 'online banking' };

/** Targets of the issue: the broadcast, and the one-by-one posting against the baseline. */
export const BROADCAST_TARGET_PER_SECOND = 500;
export const ONE_BY_ONE_TARGET_FACTOR = 5;

export interface BatchingScenario {
  name: 'broadcast' | 'one-by-one' | 'baseline';
  /** Notifications posted, and recipients in each. */
  notifications: number;
  recipientsEach: number;
  /** Service variables beyond the defaults. */
  env: Record<string, string>;
}

export function scenarios(baselineCount = BASELINE_COUNT): BatchingScenario[] {
  return [
    { name: 'broadcast', notifications: 10, recipientsEach: 1000, env: {} },
    { name: 'one-by-one', notifications: 1000, recipientsEach: 1, env: {} },
    {
      name: 'baseline',
      notifications: baselineCount,
      recipientsEach: 1,
      env: { ...ONE_RECIPIENT_PER_REQUEST },
    },
  ];
}

export interface BatchingRow {
  scenario: BatchingScenario;
  batchMax: number;
  batchWindowMs: number;
  loadBefore: number;
  recipients: number;
  /** First POST to the last one answered, s. */
  postS: number;
  /** POST /v1/notifications round trips, ms. */
  postP50Ms: number;
  postP99Ms: number;
  /** First POST to the first request at the provider, s. */
  firstArrivalS: number;
  /** First POST to the last recipient's arrival at the provider, s. */
  lastArrivalS: number;
  /** Recipients ÷ lastArrivalS. */
  perSecond: number;
  /** POST /messages of the key, whatever the answer. */
  requests: number;
  accepted: number;
  rateLimited: number;
  otherErrors: number;
  /** Recipients per accepted request. */
  perRequest: { mean: number; min: number; max: number };
  /** Accepted requests a second from the first to the last at the provider. */
  requestRate: number;
  /** Recipients never at the provider, and at the provider more than once. */
  missing: number;
  duplicates: number;
  notDelivered: number;
  /** Our messages by status at the end. */
  statuses: Record<string, number>;
  /** First POST to every message final (delivered through the sandbox's webhooks), s; NaN
   * when they were not within FINAL_TIMEOUT_MS. */
  finalS: number;
  /** CPU seconds from the first POST to the last recipient's arrival. */
  cpu: { serviceS: number; sandboxS: number; postgresS: number; boxCores: number };
  processes: ProcessPeak[];
}

export interface BatchingResult {
  latencyMs: number;
  posters: number;
  rows: BatchingRow[];
  problems: string[];
}

export interface BatchingOptions {
  scenarios?: string[];
  latencyMs?: number;
  posters?: number;
  baselineCount?: number;
  /** A CPU profile of each service process, written to bench/profiles/ when it stops. */
  profile?: boolean;
  progress?: Progress;
}

/** Messages not handed to the provider yet (nor ended without it). */
async function unsent(stack: BenchStack): Promise<number> {
  const [row] = await stack.sql<{ n: number }>(
    `SELECT count(*)::int AS n FROM messages WHERE status = ANY($1::text[])`,
    [[...UNSENT_STATUSES]],
  );
  return row.n;
}

/**
 * Posts the notifications, `posters` at a time, each poster the next one as soon as its last
 * was answered; resolves to each POST's round trip.
 */
async function postAll(
  url: string,
  bodies: string[],
  posters: number,
  agent: Agent,
): Promise<number[]> {
  const port = Number(new URL(url).port);
  const times: number[] = [];
  let next = 0;
  const poster = async (): Promise<void> => {
    while (next < bodies.length) {
      const body = bodies[next];
      next += 1;
      const started = performance.now();
      const res = await postOnce(agent, port, '/v1/notifications', body, {
        authorization: `Bearer ${ADMIN_KEY}`,
      });
      times.push(performance.now() - started);
      if (res.status !== 202) throw new Error(`POST /v1/notifications: ${res.status} ${res.text}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(posters, bodies.length) }, poster));
  return times;
}

async function runScenario(
  scenario: BatchingScenario,
  { latencyMs, posters, profile }: { latencyMs: number; posters: number; profile: boolean },
  progress: Progress,
): Promise<BatchingRow> {
  const loadBefore = await waitForQuiet(MAX_LOAD, MAX_LOAD_WAIT_MS, progress);
  const key = 'sk_bench_batching';
  const sandbox = await startSandboxProcess({
    port: 0,
    apiKeys: `${key}:standard:100000000`,
    latencyMs,
    sentDelayMs: SENT_DELAY_MS,
    deliveredDelayMs: DELIVERED_DELAY_MS,
  });
  const stack = benchStack(`batching_${scenario.name}`);
  let service: BenchProcess | null = null;
  const agent = new Agent({ keepAlive: true, maxSockets: Math.max(posters, 10) });
  try {
    progress(`${scenario.name}: starting, load ${fmt(loadBefore, 2)}`);
    service = await startService({
      stack,
      providerUrl: sandbox.url,
      providerKey: key,
      plan: 'standard',
      env: scenario.env,
      execArgv: profile ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [],
    });
    const template = await api(service.url, 'POST', '/v1/templates', {
      key: 'bench',
      body: TEMPLATE_BODY,
    });
    if (template.status !== 201) throw new Error(`template: ${template.status}`);
    // Warm-up: connections open, the code paths compiled; another text, so it joins nothing.
    const warmUp = await api(service.url, 'POST', '/v1/notifications', {
      template: 'bench',
      to: '+14155550001',
      variables: { ...VARIABLES, day: 'Monday' },
    });
    if (warmUp.status !== 202) throw new Error(`warm-up: ${warmUp.status}`);
    await waitFor(async () => (await unsent(stack)) === 0, {
      what: 'warm-up sent',
      timeoutMs: 30_000,
      intervalMs: 100,
    });

    const count = scenario.notifications * scenario.recipientsEach;
    const to = recipients(100, count);
    const bodies = Array.from({ length: scenario.notifications }, (_, i) =>
      JSON.stringify({
        template: 'bench',
        to:
          scenario.recipientsEach === 1
            ? to[i]
            : to.slice(i * scenario.recipientsEach, (i + 1) * scenario.recipientsEach),
        variables: VARIABLES,
      }),
    );
    progress(
      `${scenario.name}: ${scenario.notifications} notification(s) × ${scenario.recipientsEach}`,
    );
    const serviceBefore = await service.stats();
    const sandboxBefore = await sandbox.stats();
    const cpuBefore = cpuSnapshot(stack.databaseName);
    const start = Date.now();
    const postTimes = await postAll(
      service.url,
      bodies,
      scenario.recipientsEach === 1 ? posters : scenario.notifications,
      agent,
    );
    const postS = (Date.now() - start) / 1000;
    // Everything handed to the provider; asked of our database, as polling the sandbox's views
    // of 10,000 rows would load the process being measured.
    await waitFor(async () => (await unsent(stack)) === 0, {
      what: 'every message handed to the provider',
      timeoutMs: count * 150 + 60_000,
      intervalMs: 200,
    });
    const cpuAfter = cpuSnapshot(stack.databaseName);
    const serviceAfter = await service.stats();
    const sandboxAfter = await sandbox.stats();

    const { log, messages } = await providerRecords(sandbox.adminUrl, key);
    const { byRecipient, sends } = arrivals(log, messages, latencyMs);
    const wanted = new Set(to);
    const measuredSends = sends.filter((s) => s.recipients.some((r) => wanted.has(r)));
    const sizes = measuredSends.map((s) => s.recipients.length);
    const perRecipient = new Map<string, number>();
    for (const m of messages) perRecipient.set(m.to, (perRecipient.get(m.to) ?? 0) + 1);
    const times = to.map((r) => byRecipient.get(r)).filter((t): t is number => t !== undefined);
    const lastArrival = Math.max(...times);
    const requests = log.filter(
      (r) => r.method === 'POST' && r.path === '/v1/messages' && r.at >= start,
    );
    const acceptedAt = requests
      .filter((r) => r.status === 200)
      .map((r) => r.at)
      .sort((a, b) => a - b);
    progress(
      `${scenario.name}: ${count} recipients at the provider ${fmt((lastArrival - start) / 1000, 1)} s after the first POST, in ${acceptedAt.length} requests; waiting for delivery reports`,
    );
    // Delivery is the sandbox's webhooks (two per recipient) and the reconciler's polls: not
    // part of the figure, but every recipient must end delivered.
    const final = await waitFor(async () => (await openMessages(stack)) === 0, {
      what: 'every message final',
      timeoutMs: FINAL_TIMEOUT_MS,
      intervalMs: 500,
    }).then(
      () => true,
      () => false,
    );
    const finalS = final ? (Date.now() - start) / 1000 : Number.NaN;
    const statuses = Object.fromEntries(
      (
        await stack.sql<{ status: string; n: number }>(
          `SELECT status, count(*)::int AS n FROM messages WHERE recipient = ANY($1) GROUP BY status`,
          [to],
        )
      ).map((r) => [r.status, r.n]),
    );
    const delivered = { n: statuses.delivered ?? 0 };
    const config = loadConfig({ SMS_PROVIDER_PLAN: 'standard', ...scenario.env });
    const cpu = cpuBetween(cpuBefore, cpuAfter);
    const span = (acceptedAt[acceptedAt.length - 1] - acceptedAt[0]) / 1000;
    const serviceFinal = await service.stats(true);
    const sandboxFinal = await sandbox.stats();
    return {
      scenario,
      batchMax: config.sending.batchMax,
      batchWindowMs: config.sending.batchWindowMs,
      loadBefore,
      recipients: count,
      postS,
      postP50Ms: percentile(postTimes, 50),
      postP99Ms: percentile(postTimes, 99),
      firstArrivalS: (Math.min(...times) - start) / 1000,
      lastArrivalS: (lastArrival - start) / 1000,
      perSecond: count / ((lastArrival - start) / 1000),
      requests: requests.length,
      accepted: acceptedAt.length,
      rateLimited: requests.filter((r) => r.status === 429).length,
      otherErrors: requests.filter((r) => r.status !== 200 && r.status !== 429).length,
      perRequest: {
        mean: sizes.reduce((a, b) => a + b, 0) / sizes.length,
        min: Math.min(...sizes),
        max: Math.max(...sizes),
      },
      requestRate: acceptedAt.length > 1 ? (acceptedAt.length - 1) / span : Number.NaN,
      missing: to.filter((r) => !perRecipient.has(r)).length,
      duplicates: to.filter((r) => (perRecipient.get(r) ?? 0) > 1).length,
      notDelivered: count - delivered.n,
      statuses,
      finalS,
      cpu: {
        serviceS: (serviceAfter.cpuMs - serviceBefore.cpuMs) / 1000,
        sandboxS: (sandboxAfter.cpuMs - sandboxBefore.cpuMs) / 1000,
        postgresS: cpu.postgresCores * ((cpuAfter.at - cpuBefore.at) / 1000),
        boxCores: cpu.boxCores,
      },
      processes: [
        peakOf(`batching ${scenario.name} / all`, 'service', serviceFinal, true),
        peakOf(`batching ${scenario.name} / sandbox`, 'sandbox', sandboxFinal),
      ],
    };
  } finally {
    agent.destroy();
    await service?.close();
    await sandbox.close();
    await stack.cleanup();
  }
}

/** The broadcast's verdict: recipients a second, no 429, everyone exactly once. */
export function broadcastMet(row: BatchingRow): boolean {
  return (
    row.perSecond >= BROADCAST_TARGET_PER_SECOND &&
    row.rateLimited === 0 &&
    row.missing === 0 &&
    row.duplicates === 0
  );
}

/** The one-by-one posting against the baseline measured in the same run. */
export function oneByOneFactor(result: BatchingResult): number {
  const one = result.rows.find((r) => r.scenario.name === 'one-by-one');
  const base = result.rows.find((r) => r.scenario.name === 'baseline');
  return one && base ? one.perSecond / base.perSecond : Number.NaN;
}

export function oneByOneMet(result: BatchingResult): boolean | undefined {
  const factor = oneByOneFactor(result);
  const one = result.rows.find((r) => r.scenario.name === 'one-by-one');
  if (!one || !Number.isFinite(factor)) return undefined;
  return (
    factor >= ONE_BY_ONE_TARGET_FACTOR &&
    one.rateLimited === 0 &&
    one.missing === 0 &&
    one.duplicates === 0
  );
}

function verdict(met: boolean | undefined): string {
  return met === undefined ? 'not measured' : met ? 'met' : '**not met**';
}

/** The figures as markdown lines: targets with verdicts, the scenario table, CPU. */
export function batchingLines(result: BatchingResult): string[] {
  const row = (name: string) => result.rows.find((r) => r.scenario.name === name);
  const broadcast = row('broadcast');
  const one = row('one-by-one');
  const base = row('baseline');
  const factor = oneByOneFactor(result);
  const out = [
    '| figure | target | measured | verdict |',
    '|---|---|---|---|',
    `| 10,000-recipient broadcast (10 × 1,000, one text), standard plan | ≥ ${BROADCAST_TARGET_PER_SECOND} recipients/s (≥ 50 per request slot), zero 429s, every recipient once | ${broadcast ? `${fmt(broadcast.perSecond)}/s (${fmt(broadcast.lastArrivalS, 1)} s), ${broadcast.accepted} requests of ${fmt(broadcast.perRequest.mean, 1)} (${broadcast.perRequest.min}–${broadcast.perRequest.max}), ${broadcast.rateLimited} 429s, ${broadcast.missing} missing, ${broadcast.duplicates} twice` : 'not run'} | ${verdict(broadcast ? broadcastMet(broadcast) : undefined)} |`,
    `| 1,000 one-recipient notifications posted one by one, standard plan | ≥ ${ONE_BY_ONE_TARGET_FACTOR} × SEND_BATCH_MAX=1 | ${one ? `${fmt(one.perSecond)}/s (posted in ${fmt(one.postS, 2)} s, at the provider by ${fmt(one.lastArrivalS, 1)} s)` : 'not run'}${base ? ` vs ${fmt(base.perSecond, 1)}/s (${base.recipients} at SEND_BATCH_MAX=1)` : ''}${Number.isFinite(factor) ? ` = ${fmt(factor, 1)} ×` : ''} | ${verdict(oneByOneMet(result))} |`,
    '',
    '| scenario | SEND_BATCH_MAX / window ms | load before | recipients | posted in s (POST p50 / p99 ms) | first at provider s | last at provider s | recipients/s | requests (accepted) | 429s | other non-2xx | recipients per request mean (min–max) | requests/s at provider | missing | twice | not delivered | all final s |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of result.rows) {
    out.push(
      `| ${r.scenario.name} | ${r.batchMax} / ${r.batchWindowMs} | ${fmt(r.loadBefore, 2)} | ${r.recipients} | ${fmt(r.postS, 2)} (${fmt(r.postP50Ms)} / ${fmt(r.postP99Ms)}) | ${fmt(r.firstArrivalS, 2)} | ${fmt(r.lastArrivalS, 2)} | ${fmt(r.perSecond, 1)} | ${r.requests} (${r.accepted}) | ${r.rateLimited} | ${r.otherErrors} | ${fmt(r.perRequest.mean, 1)} (${r.perRequest.min}–${r.perRequest.max}) | ${fmt(r.requestRate, 2)} | ${r.missing} | ${r.duplicates} | ${r.notDelivered} | ${fmt(r.finalS, 1)} |`,
    );
  }
  out.push(
    '',
    `CPU from the first POST to the last recipient at the provider: ${result.rows
      .map(
        (r) =>
          `${r.scenario.name} service ${fmt(r.cpu.serviceS, 1)} s, sandbox ${fmt(r.cpu.sandboxS, 1)} s, PostgreSQL ${fmt(r.cpu.postgresS, 1)} s (box ${fmt(r.cpu.boxCores, 2)} cores busy)`,
      )
      .join('; ')}. Sandbox latency ${result.latencyMs} ms; one-by-one posters: ${result.posters}.`,
  );
  for (const r of result.rows.filter((row) => row.notDelivered > 0)) {
    out.push(
      '',
      `${r.scenario.name}: not all delivered within ${FINAL_TIMEOUT_MS / 1000} s of the first POST; statuses ${JSON.stringify(r.statuses)}.`,
    );
  }
  return out;
}

export async function runBatching(options: BatchingOptions = {}): Promise<BatchingResult> {
  const {
    scenarios: names = ['broadcast', 'one-by-one', 'baseline'],
    latencyMs = LATENCY_MS,
    posters = POSTERS,
    baselineCount = BASELINE_COUNT,
    profile = false,
    progress = stderrProgress,
  } = options;
  const chosen = scenarios(baselineCount).filter((s) => names.includes(s.name));
  if (chosen.length === 0 || chosen.length !== names.length) {
    throw new Error('unknown scenario; pick from broadcast, one-by-one, baseline');
  }
  const rows: BatchingRow[] = [];
  for (const scenario of chosen) {
    rows.push(await runScenario(scenario, { latencyMs, posters, profile }, progress));
  }
  const problems = rows.flatMap((r) => [
    ...(r.missing > 0 ? [`batching ${r.scenario.name}: ${r.missing} recipients never sent`] : []),
    ...(r.duplicates > 0
      ? [`batching ${r.scenario.name}: ${r.duplicates} recipients sent twice`]
      : []),
    ...(r.notDelivered > 0
      ? [
          `batching ${r.scenario.name}: ${r.notDelivered} messages not delivered within ${FINAL_TIMEOUT_MS / 1000} s of the first POST (${JSON.stringify(r.statuses)})`,
        ]
      : []),
  ]);
  return { latencyMs, posters, rows, problems };
}

async function main(): Promise<void> {
  Logger.overrideLogger(false);
  const machineBefore = machineLine();
  const profile = process.argv.includes('--profile');
  const wanted = process.argv.slice(2).filter((arg) => arg !== '--profile');
  const result = await runBatching({ ...(wanted.length ? { scenarios: wanted } : {}), profile });
  console.log(`\nBefore: ${machineBefore}\nAfter:  ${machineLine()}\n`);
  console.log(batchingLines(result).join('\n'));
  failOnProblems(result.problems);
}

runScript(module, main);
