/*
 * One large request: the time from sending one POST /v1/notifications with 1,000 distinct
 * recipients (scheduled a day ahead, so no send competes) to its complete 202 answer.
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/large-request.ts
 *
 * One APP_ROLE=api instance in its own process (bench/support.ts), a fresh database. Requests go
 * one at a time over one keep-alive connection: the figure is the latency of a request alone,
 * not under load. A few warm-up requests first (JIT, pool connections, prepared plans), then the
 * timed ones. Afterwards SQL checks that every 202 stored its notification and its 1,000
 * messages.
 *
 * Env: LARGE_REQUEST_COUNT (timed requests, default 20), LARGE_REQUEST_WARM_UP (default 3),
 * LARGE_REQUEST_RECIPIENTS (default 1000).
 */
import { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import {
  ADMIN_KEY,
  api,
  type BenchProcess,
  benchStack,
  failOnProblems,
  fmt,
  machineLine,
  peakOf,
  percentile,
  type ProcessPeak,
  type Progress,
  postOnce,
  runScript,
  startApiService,
  stderrProgress,
} from './support';

const COUNT = Number(process.env.LARGE_REQUEST_COUNT ?? 20);
const WARM_UP = Number(process.env.LARGE_REQUEST_WARM_UP ?? 3);
const RECIPIENTS = Number(process.env.LARGE_REQUEST_RECIPIENTS ?? 1000);

export interface LargeRequestResult {
  recipients: number;
  warmUp: number;
  timedMs: number[];
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Service CPU per timed request. */
  cpuPerRequestMs: number;
  processes: ProcessPeak[];
  problems: string[];
}

export async function runLargeRequest(
  options: { count?: number; warmUp?: number; recipients?: number; progress?: Progress } = {},
): Promise<LargeRequestResult> {
  const {
    count = COUNT,
    warmUp = WARM_UP,
    recipients = RECIPIENTS,
    progress = stderrProgress,
  } = options;
  const stack = benchStack('large_request');
  let service: BenchProcess | null = null;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    progress('starting one api instance');
    service = await startApiService(stack);
    const port = Number(new URL(service.url).port);
    const template = await api(service.url, 'POST', '/v1/templates', {
      key: 'bench_large',
      body: 'Your parcel {{ref}} arrives tomorrow',
    });
    if (template.status !== 201) throw new Error(`template: ${template.status}`);
    const scheduledAt = new Date(Date.now() + 24 * 3600 * 1000).toISOString();
    let next = 0;
    const body = (): string => {
      // Distinct across the whole run, and outside the intake bench's numbers.
      const to = Array.from(
        { length: recipients },
        () => `+1415${String(5_000_000 + next++).padStart(7, '0')}`,
      );
      return JSON.stringify({
        template: 'bench_large',
        to,
        variables: { ref: 'B-1' },
        scheduled_at: scheduledAt,
      });
    };
    const headers = { authorization: `Bearer ${ADMIN_KEY}` };
    const once = async (): Promise<number> => {
      const text = body();
      const t0 = performance.now();
      const res = await postOnce(agent, port, '/v1/notifications', text, headers, 30_000);
      const ms = performance.now() - t0;
      if (res.status !== 202) {
        throw new Error(`POST /v1/notifications: ${res.status} ${res.text.slice(0, 300)}`);
      }
      return ms;
    };
    progress(`warm-up: ${warmUp} requests of ${recipients} recipients`);
    for (let i = 0; i < warmUp; i += 1) await once();
    const before = await service.stats();
    progress(`timed: ${count} requests of ${recipients} recipients, one at a time`);
    const timedMs: number[] = [];
    for (let i = 0; i < count; i += 1) timedMs.push(await once());
    const after = await service.stats();
    const [stored] = await stack.sql<{ notifications: number; messages: number }>(
      `SELECT (SELECT count(*)::int FROM notifications) AS notifications,
              (SELECT count(*)::int FROM messages) AS messages`,
    );
    const expected = warmUp + count;
    const problems: string[] = [];
    if (stored.notifications !== expected || stored.messages !== expected * recipients) {
      problems.push(
        `large request: ${expected} requests answered 202 but ${stored.notifications} notifications and ${stored.messages} messages stored (expected ${expected * recipients})`,
      );
    }
    return {
      recipients,
      warmUp,
      timedMs,
      p50Ms: percentile(timedMs, 50),
      p99Ms: percentile(timedMs, 99),
      maxMs: Math.max(...timedMs),
      cpuPerRequestMs: (after.cpuMs - before.cpuMs) / count,
      processes: [peakOf('large request / api', 'service', after)],
      problems,
    };
  } finally {
    agent.destroy();
    await service?.close();
    await stack.cleanup();
  }
}

export function largeRequestLines(r: LargeRequestResult): string[] {
  return [
    '| recipients | requests | p50 ms | p99 ms | max ms | service CPU per request ms | peak RSS MB |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    `| ${r.recipients} | ${r.timedMs.length} | ${fmt(r.p50Ms, 1)} | ${fmt(r.p99Ms, 1)} | ${fmt(r.maxMs, 1)} | ${fmt(r.cpuPerRequestMs, 1)} | ${fmt(r.processes[0]?.peakRssMb ?? Number.NaN)} |`,
    '',
    `Each, in order, ms: ${r.timedMs.map((ms) => ms.toFixed(0)).join(' ')}`,
  ];
}

async function main(): Promise<void> {
  const machineBefore = machineLine();
  const r = await runLargeRequest();
  console.log(machineBefore);
  console.log(
    `One POST of ${r.recipients} distinct recipients scheduled a day ahead, ${r.timedMs.length} timed one after another after ${r.warmUp} warm-up requests, APP_ROLE=api.\n`,
  );
  console.log(largeRequestLines(r).join('\n'));
  failOnProblems(r.problems);
}

runScript(module, main);
