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
  fmt,
  machineLine,
  openMessages,
  percentile,
  recipients,
  providerRecords,
  type BenchProcess,
  startSandboxProcess,
  startService,
  waitFor,
} from './support';

const COUNT = Number(process.env.SCHEDULE_BENCH_COUNT ?? 50);
const LATENCY_MS = 200;

interface Case {
  name: string;
  plan: 'standard' | 'enterprise';
  /** Offset of message i from the start of posting, ms. */
  offsetMs(i: number): number;
}

const CASES: Case[] = [
  {
    name: 'staggered 2–10 s',
    plan: 'standard',
    offsetMs: (i) => 2000 + (i * 8000) / (COUNT - 1),
  },
  {
    name: 'staggered 2–10 s',
    plan: 'enterprise',
    offsetMs: (i) => 2000 + (i * 8000) / (COUNT - 1),
  },
  { name: 'burst, all at +5 s', plan: 'enterprise', offsetMs: () => 5000 },
];

interface Row {
  test: Case;
  messages: number;
  sends: number;
  rateLimited: number;
  lags: number[];
  late1s: number;
  duplicates: number;
  notDelivered: number;
}

async function runCase(test: Case): Promise<Row> {
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

    const to = recipients(100, COUNT);
    const start = Date.now();
    const scheduledAt = new Map<string, number>();
    to.forEach((number, i) => scheduledAt.set(number, Math.round(start + test.offsetMs(i))));
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
    return {
      test,
      messages: COUNT,
      sends: log.filter((r) => r.method === 'POST' && r.path === '/v1/messages').length,
      rateLimited: log.filter((r) => r.status === 429).length,
      lags,
      late1s: lags.filter((l) => !(l < 1000)).length,
      duplicates: [...perRecipient.values()].filter((n) => n > 1).length,
      notDelivered: COUNT - delivered.n,
    };
  } finally {
    await service?.close();
    await sandbox.close();
    await stack.cleanup();
  }
}

async function main(): Promise<void> {
  Logger.overrideLogger(false);
  const machineBefore = machineLine();
  const rows: Row[] = [];
  for (const test of CASES) {
    rows.push(await runCase(test));
    process.stderr.write(`done: ${test.plan} ${test.name}\n`);
  }
  console.log(
    `\nBefore: ${machineBefore}\nAfter:  ${machineLine()}\n${COUNT} single-recipient notifications per row, provider latency ${LATENCY_MS} ms, default service settings.\n`,
  );
  console.log(
    '| plan | schedule | messages | sends | 429s | lag min ms | p50 ms | p95 ms | max ms | ≥ 1 s late | duplicates | not delivered |',
  );
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.test.plan} | ${r.test.name} | ${r.messages} | ${r.sends} | ${r.rateLimited} | ${fmt(Math.min(...r.lags))} | ${fmt(percentile(r.lags, 50))} | ${fmt(percentile(r.lags, 95))} | ${fmt(Math.max(...r.lags))} | ${r.late1s} | ${r.duplicates} | ${r.notDelivered} |`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
