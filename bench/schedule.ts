/*
 * Schedule lag benchmark: how late scheduled messages reach the provider compared with their
 * scheduled_at (SPEC: "late by under a second when the rate budget allows").
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/schedule.ts
 *
 * Each row: a fresh sandbox (provider latency 200 ms), database, Redis prefix and one service
 * process (APP_ROLE=all, default settings). SCHEDULE_BENCH_COUNT single-recipient notifications
 * are posted with scheduled_at
 *   - staggered: spread evenly from 2 s to 10 s after the start of posting (~6 per second, within
 *     either plan's budget), on the standard and on the enterprise plan;
 *   - burst: all at the same instant 5 s ahead, on the enterprise plan (50 at 50/s: the budget
 *     itself spreads them over ~1 s, so the tail is late by design).
 * Lag = arrival at the provider (sandbox request log) − scheduled_at; negative would be early.
 *
 * Env: SCHEDULE_BENCH_COUNT (default 50), BENCH_PG_URL, BENCH_REDIS_URL.
 */
import { Logger } from '@nestjs/common';
import {
  api,
  arrivals,
  benchStack,
  failOnProblems,
  fmt,
  machineLine,
  openMessages,
  peakOf,
  percentile,
  type ProcessPeak,
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

const COUNT = Number(process.env.SCHEDULE_BENCH_COUNT ?? 50);
const LATENCY_MS = 200;

export interface Case {
  name: string;
  plan: 'standard' | 'enterprise';
  /** Within the budget: the lateness target is about these; a burst is late by design. */
  staggered: boolean;
  /** Offset of message i of `count` from the start of posting, ms. */
  offsetMs(i: number, count: number): number;
}

const CASES: Case[] = [
  {
    name: 'staggered 2–10 s',
    plan: 'standard',
    staggered: true,
    offsetMs: (i, count) => 2000 + (i * 8000) / (count - 1),
  },
  {
    name: 'staggered 2–10 s',
    plan: 'enterprise',
    staggered: true,
    offsetMs: (i, count) => 2000 + (i * 8000) / (count - 1),
  },
  { name: 'burst, all at +5 s', plan: 'enterprise', staggered: false, offsetMs: () => 5000 },
];

export interface Row {
  test: Case;
  messages: number;
  sends: number;
  rateLimited: number;
  lags: number[];
  minMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Arrived at the provider before scheduled_at. */
  early: number;
  late1s: number;
  duplicates: number;
  notDelivered: number;
  processes: ProcessPeak[];
}

export interface ScheduleResult {
  count: number;
  latencyMs: number;
  rows: Row[];
  problems: string[];
}

async function runCase(test: Case, count: number): Promise<Row> {
  const key = `sk_bench_${test.plan}`;
  const sandbox = await startSandboxProcess({
    apiKeys: `${key}:${test.plan}:1000000`,
    latencyMs: LATENCY_MS,
    sentDelayMs: 50,
    deliveredDelayMs: 100,
  });
  const stack = benchStack('schedule');
  let service: BenchProcess | null = null;
  try {
    service = await startService({
      stack,
      providerUrl: sandbox.url,
      providerKey: key,
      plan: test.plan,
    });
    const url = service.url;
    const template = await api(url, 'POST', '/v1/templates', {
      key: 'bench',
      body: 'Your appointment is in one hour',
    });
    if (template.status !== 201) throw new Error(`template: ${template.status}`);

    const to = recipients(100, count);
    const start = Date.now();
    const scheduledAt = new Map<string, number>();
    to.forEach((number, i) => scheduledAt.set(number, Math.round(start + test.offsetMs(i, count))));
    // Five requests at a time: posting all of them takes well under the first 2 s.
    for (let i = 0; i < to.length; i += 5) {
      await Promise.all(
        to.slice(i, i + 5).map(async (number) => {
          const res = await api(url, 'POST', '/v1/notifications', {
            template: 'bench',
            to: number,
            scheduled_at: new Date(scheduledAt.get(number) ?? 0).toISOString(),
          });
          if (res.status !== 202) throw new Error(`POST /v1/notifications: ${res.status}`);
        }),
      );
    }
    const postedIn = Date.now() - start;
    if (postedIn > 1500) process.stderr.write(`warning: posting took ${postedIn} ms\n`);

    await waitFor(async () => (await openMessages(stack)) === 0, {
      what: 'every scheduled message final',
      timeoutMs: 30_000,
      intervalMs: 100,
    });

    const { log, messages } = await providerRecords(sandbox.adminUrl, key);
    const { byRecipient } = arrivals(log, messages, LATENCY_MS);
    const lags = to.map((n) => (byRecipient.get(n) ?? Number.NaN) - (scheduledAt.get(n) ?? 0));
    const perRecipient = new Map<string, number>();
    for (const m of messages) perRecipient.set(m.to, (perRecipient.get(m.to) ?? 0) + 1);
    const [delivered] = await stack.sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages WHERE status = 'delivered'`,
    );
    const stats = await service.stats();
    return {
      test,
      messages: count,
      sends: log.filter((r) => r.method === 'POST' && r.path === '/v1/messages').length,
      rateLimited: log.filter((r) => r.status === 429).length,
      lags,
      minMs: Math.min(...lags),
      p50Ms: percentile(lags, 50),
      p95Ms: percentile(lags, 95),
      p99Ms: percentile(lags, 99),
      maxMs: Math.max(...lags),
      early: lags.filter((l) => l < 0).length,
      late1s: lags.filter((l) => !(l < 1000)).length,
      duplicates: [...perRecipient.values()].filter((n) => n > 1).length,
      notDelivered: count - delivered.n,
      processes: [peakOf(`schedule ${test.plan} ${test.name} / all`, 'service', stats)],
    };
  } finally {
    await service?.close();
    await sandbox.close();
    await stack.cleanup();
  }
}

export async function runSchedule(
  options: { count?: number; progress?: Progress } = {},
): Promise<ScheduleResult> {
  const { count = COUNT, progress = stderrProgress } = options;
  const rows: Row[] = [];
  for (const test of CASES) {
    progress(`${test.plan}, ${test.name}: ${count} messages`);
    rows.push(await runCase(test, count));
  }
  const problems = rows.flatMap((r) => [
    ...(r.duplicates > 0
      ? [`schedule ${r.test.plan} ${r.test.name}: ${r.duplicates} recipients sent twice`]
      : []),
    ...(r.notDelivered > 0
      ? [`schedule ${r.test.plan} ${r.test.name}: ${r.notDelivered} messages not delivered`]
      : []),
  ]);
  return { count, latencyMs: LATENCY_MS, rows, problems };
}

export const SCHEDULE_TABLE_HEADER = [
  '| plan | schedule | messages | sends | 429s | lag min ms | p50 ms | p95 ms | p99 ms | max ms | early | ≥ 1 s late | duplicates | not delivered |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
];

export function scheduleRow(r: Row): string {
  return `| ${r.test.plan} | ${r.test.name} | ${r.messages} | ${r.sends} | ${r.rateLimited} | ${fmt(r.minMs)} | ${fmt(r.p50Ms)} | ${fmt(r.p95Ms)} | ${fmt(r.p99Ms)} | ${fmt(r.maxMs)} | ${r.early} | ${r.late1s} | ${r.duplicates} | ${r.notDelivered} |`;
}

async function main(): Promise<void> {
  Logger.overrideLogger(false);
  const machineBefore = machineLine();
  const result = await runSchedule();
  console.log(
    `\nBefore: ${machineBefore}\nAfter:  ${machineLine()}\n${result.count} single-recipient notifications per row, provider latency ${result.latencyMs} ms, default service settings.\n`,
  );
  console.log(SCHEDULE_TABLE_HEADER.join('\n'));
  for (const r of result.rows) console.log(scheduleRow(r));
  failOnProblems(result.problems);
}

runScript(module, main);
