/*
 * Failover benchmark: account A's credits run out in the middle of a backlog; how long until
 * account B carries the traffic, and is anything lost or sent twice (issue #21 item 5).
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/failover.ts
 *
 * One sandbox process (200 ms latency) holding two keys: A with FAILOVER_BENCH_CREDITS credits,
 * B with plenty, both on the standard plan (10 requests/s). One service process (APP_ROLE=all)
 * with SMS_PROVIDER_ACCOUNTS = [A, B] and one recipient per request (SEND_BATCH_MAX=1: the
 * figure is requests per second, as in the sending benches). FAILOVER_BENCH_MESSAGES messages
 * posted at once, in requests of up to 1,000 recipients; drained until every message is final.
 * From the sandbox's request log: A's last accepted send, A's first refusal (402
 * insufficient_credits), B's first accepted send, B's rate; from the database and the sandbox:
 * delivered, lost, sent twice.
 *
 * Env: FAILOVER_BENCH_MESSAGES (300), FAILOVER_BENCH_CREDITS (100), BENCH_PG_URL, BENCH_REDIS_URL.
 */
import { Logger } from '@nestjs/common';
import {
  api,
  benchStack,
  type BenchProcess,
  failOnProblems,
  fmt,
  machineLine,
  openMessages,
  peakOf,
  type ProcessPeak,
  type Progress,
  providerRecords,
  recipients,
  runScript,
  startSandboxProcess,
  startService,
  stderrProgress,
  waitFor,
  WEBHOOK_SECRET,
} from './support';

const MESSAGES = Number(process.env.FAILOVER_BENCH_MESSAGES ?? 300);
const CREDITS = Number(process.env.FAILOVER_BENCH_CREDITS ?? 100);
const LATENCY_MS = 200;
const LIMIT = 10;
const KEY_A = 'sk_bench_failover_a';
const KEY_B = 'sk_bench_failover_b';

export interface FailoverResult {
  messages: number;
  creditsA: number;
  latencyMs: number;
  /** Accepted by each account. */
  viaA: number;
  viaB: number;
  /** Requests A refused for lack of credits (each given back, no attempt). */
  refusalsA: number;
  /** From A's last accepted send to its first refusal, ms (A's pace: one slot). */
  lastAToRefusalMs: number;
  /** From A's first refusal to B's first accepted send: the failover itself, ms. */
  refusalToBMs: number;
  /** From A's last accepted send to B's first: the hole in the traffic, ms. */
  gapMs: number;
  /** B's sends per second from its first to its last, against its plan's 10. */
  utilisationB: number;
  /** A's before it ran out, the same way. */
  utilisationA: number;
  delivered: number;
  lost: number;
  duplicates: number;
  drainSeconds: number;
  processes: ProcessPeak[];
  problems: string[];
}

const SEND_PATH = '/v1/messages';

export async function runFailover(
  options: { messages?: number; credits?: number; progress?: Progress } = {},
): Promise<FailoverResult> {
  const { messages = MESSAGES, credits = CREDITS, progress = stderrProgress } = options;
  progress(`A with ${credits} credits, B plenty: ${messages} messages`);
  const sandbox = await startSandboxProcess({
    apiKeys: `${KEY_A}:standard:${credits},${KEY_B}:standard:1000000`,
    latencyMs: LATENCY_MS,
    sentDelayMs: 50,
    deliveredDelayMs: 100,
  });
  const stack = benchStack('failover');
  let service: BenchProcess | null = null;
  try {
    const account = (name: string, key: string) => ({
      name,
      base_url: sandbox.url,
      api_key: key,
      plan: 'standard',
      webhook_secret: WEBHOOK_SECRET,
    });
    service = await startService({
      stack,
      providerUrl: sandbox.url,
      providerKey: KEY_A,
      plan: 'standard',
      env: {
        SMS_PROVIDER_ACCOUNTS: JSON.stringify([account('a', KEY_A), account('b', KEY_B)]),
        SEND_BATCH_MAX: '1',
      },
    });
    const template = await api(service.url, 'POST', '/v1/templates', {
      key: 'bench',
      body: 'Your code is 1234',
    });
    if (template.status !== 201) throw new Error(`template: ${template.status}`);

    const to = recipients(300, messages);
    const start = Date.now();
    for (let i = 0; i < to.length; i += 1000) {
      const res = await api(service.url, 'POST', '/v1/notifications', {
        template: 'bench',
        to: to.slice(i, i + 1000),
      });
      if (res.status !== 202) throw new Error(`POST /v1/notifications: ${res.status}`);
    }
    await waitFor(async () => (await openMessages(stack)) === 0, {
      what: 'every message final',
      timeoutMs: 60_000 + (messages / LIMIT) * 2000,
      intervalMs: 200,
    });
    const drainSeconds = (Date.now() - start) / 1000;

    const a = await providerRecords(sandbox.adminUrl, KEY_A);
    const b = await providerRecords(sandbox.adminUrl, KEY_B);
    const sends = (log: typeof a.log, ok: boolean) =>
      log
        .filter((r) => r.method === 'POST' && r.path === SEND_PATH && (r.status === 200) === ok)
        .map((r) => r.at)
        .sort((x, y) => x - y);
    const acceptedA = sends(a.log, true);
    const refusedA = sends(a.log, false);
    const acceptedB = sends(b.log, true);
    const lastA = acceptedA[acceptedA.length - 1] ?? Number.NaN;
    const firstRefusal = refusedA[0] ?? Number.NaN;
    const firstB = acceptedB[0] ?? Number.NaN;
    const rate = (times: number[]) =>
      times.length > 1
        ? (times.length - 1) / ((times[times.length - 1] - times[0]) / 1000) / LIMIT
        : Number.NaN;

    const perRecipient = new Map<string, number>();
    for (const m of [...a.messages, ...b.messages]) {
      perRecipient.set(m.to, (perRecipient.get(m.to) ?? 0) + 1);
    }
    const [row] = await stack.sql<{ delivered: number }>(
      `SELECT count(*) FILTER (WHERE status = 'delivered')::int AS delivered FROM messages`,
    );
    const stats = await service.stats();
    const result: FailoverResult = {
      messages,
      creditsA: credits,
      latencyMs: LATENCY_MS,
      viaA: a.messages.length,
      viaB: b.messages.length,
      refusalsA: refusedA.length,
      lastAToRefusalMs: firstRefusal - lastA,
      refusalToBMs: firstB - firstRefusal,
      gapMs: firstB - lastA,
      utilisationB: rate(acceptedB),
      utilisationA: rate(acceptedA),
      delivered: row.delivered,
      lost: to.filter((n) => !perRecipient.has(n)).length,
      duplicates: [...perRecipient.values()].filter((n) => n > 1).length,
      drainSeconds,
      processes: [peakOf('failover / all', 'service', stats)],
      problems: [],
    };
    result.problems = [
      ...(result.lost > 0
        ? [`failover: ${result.lost} recipients never reached the provider`]
        : []),
      ...(result.duplicates > 0 ? [`failover: ${result.duplicates} recipients sent twice`] : []),
      ...(result.delivered !== messages
        ? [`failover: ${messages - result.delivered} messages not delivered`]
        : []),
      ...(result.viaA !== credits ? [`failover: A took ${result.viaA}, not its ${credits}`] : []),
    ];
    return result;
  } finally {
    await service?.close();
    await sandbox.close();
    await stack.cleanup();
  }
}

export const FAILOVER_TABLE_HEADER = [
  '| messages | A credits | via A | via B | A refusals | A last → refusal ms | refusal → B first ms | gap ms | A rate / plan | B rate / plan | drain s | lost | twice |',
  '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
];

export function failoverRow(r: FailoverResult): string {
  return `| ${r.messages} | ${r.creditsA} | ${r.viaA} | ${r.viaB} | ${r.refusalsA} | ${fmt(r.lastAToRefusalMs)} | ${fmt(r.refusalToBMs)} | ${fmt(r.gapMs)} | ${fmt(r.utilisationA, 3)} | ${fmt(r.utilisationB, 3)} | ${fmt(r.drainSeconds, 1)} | ${r.lost} | ${r.duplicates} |`;
}

async function main(): Promise<void> {
  Logger.overrideLogger(false);
  const machineBefore = machineLine();
  const result = await runFailover();
  console.log(
    `\nBefore: ${machineBefore}\nAfter:  ${machineLine()}\nProvider latency ${result.latencyMs} ms, standard plan on both accounts, one recipient per request.\n`,
  );
  console.log(FAILOVER_TABLE_HEADER.join('\n'));
  console.log(failoverRow(result));
  failOnProblems(result.problems);
}

runScript(module, main);
