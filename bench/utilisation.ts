/*
 * Send utilisation at network latency: how much of the plan's rate the real service uses when
 * the provider is a round trip away, and whether the provider ever counts more than the limit in
 * a sliding second. The sandbox plays the network (forward_delay_ms, return_delay_ms): it counts
 * and logs a request only when it "arrives", so its request log is the provider's own count.
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/utilisation.ts [network ...]
 *
 * Networks (default: all three), each with the standard (10/s) and enterprise (50/s) plan, one
 * process (APP_ROLE=all) and two (all + worker):
 *   loopback   no delay
 *   rtt200     forward 60–80 ms, return 120 ms: ~200 ms round trip, 20 ms jitter on the way there
 *   rtt200pm20 forward 80–120 ms, return 100 ms: 200 ± 20 ms
 *
 * Per scenario a fresh sandbox process, database, Redis prefix and service processes; a warm-up of
 * 80 messages (connections open, and the throttle has the 64 round trips it keeps, as a service
 * that has been sending has: it keeps them through an hour of idleness), then a backlog of
 * limit × UTILISATION_BENCH_SECONDS messages in requests of up to 1,000 recipients, drained until
 * every message is final. Utilisation = (sends − 1) / (last − first backlog send) ÷ limit, from the
 * sandbox's log.
 *
 * Env: UTILISATION_BENCH_SECONDS (default 15), UTILISATION_MAX_LOAD (default 2: each scenario
 * waits up to 3 min for the 1-minute load average to drop below it), BENCH_PG_URL,
 * BENCH_REDIS_URL, UTILISATION_SERVICE_ENV (`NAME=value,NAME=value` for every instance, over
 * the bench's own SEND_BATCH_MAX=1: one request per message).
 */
import { Logger } from '@nestjs/common';
import { maxInSlidingWindow } from '../apps/notification-service/src/provider/throttle';
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
  waitForQuiet,
} from './support';

const SECONDS = Number(process.env.UTILISATION_BENCH_SECONDS ?? 15);
const MAX_LOAD = Number(process.env.UTILISATION_MAX_LOAD ?? 2);
const MAX_LOAD_WAIT_MS = 180_000;
const MAX_RECIPIENTS = 1000;
const WARM_UP = 80;
const SERVICE_ENV: Record<string, string> = {
  // One request per message: utilisation is of the plan's requests, which batching would save.
  SEND_BATCH_MAX: '1',
  ...Object.fromEntries(
    (process.env.UTILISATION_SERVICE_ENV ?? '')
      .split(',')
      .filter((pair) => pair.includes('='))
      .map((pair) => [pair.slice(0, pair.indexOf('=')).trim(), pair.slice(pair.indexOf('=') + 1)]),
  ),
};

export interface Network {
  name: string;
  label: string;
  forwardDelayMs: [number, number];
  returnDelayMs: number;
}

export const NETWORKS: Network[] = [
  { name: 'loopback', label: 'loopback', forwardDelayMs: [0, 0], returnDelayMs: 0 },
  {
    name: 'rtt200',
    label: '~200 ms, 20 ms jitter (forward 60–80, return 120)',
    forwardDelayMs: [60, 80],
    returnDelayMs: 120,
  },
  {
    name: 'rtt200pm20',
    label: '200 ± 20 ms (forward 80–120, return 100)',
    forwardDelayMs: [80, 120],
    returnDelayMs: 100,
  },
];

const PLANS = [
  { plan: 'standard', limit: 10 },
  { plan: 'enterprise', limit: 50 },
] as const;

export interface UtilisationRow {
  network: string;
  plan: 'standard' | 'enterprise';
  limit: number;
  instances: 1 | 2;
  loadBefore: number;
  messages: number;
  sends: number;
  /** Achieved rate ÷ limit, first to last backlog send at the provider. */
  utilisation: number;
  rateLimited: number;
  /** Every request of the key the provider counted during the backlog, polls included. */
  requests: number;
  maxInSecond: number;
  overLimitWindows: number;
  tightestSpanMs: number;
  /** The throttle's counters (notify_throttle_total by event), summed over the instances. */
  throttle: Record<string, number>;
  duplicates: number;
  notDelivered: number;
  processes: ProcessPeak[];
}

export interface UtilisationResult {
  seconds: number;
  networks: Network[];
  serviceEnv: Record<string, string>;
  rows: UtilisationRow[];
  problems: string[];
}

export interface UtilisationOptions {
  networks?: string[];
  seconds?: number;
  serviceEnv?: Record<string, string>;
  progress?: Progress;
}

/** notify_throttle_total by event, summed over the instances. */
async function throttleCounts(instances: BenchProcess[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const instance of instances) {
    const text = await (await fetch(`${instance.url}/metrics`)).text();
    for (const line of text.split('\n')) {
      const match = /^notify_throttle_total\{event="([a-z_]+)"\} (\d+)/.exec(line);
      if (match) counts[match[1]] = (counts[match[1]] ?? 0) + Number(match[2]);
    }
  }
  return counts;
}

async function post(url: string, to: string[]): Promise<void> {
  const res = await api(url, 'POST', '/v1/notifications', {
    template: 'bench',
    to: to.length === 1 ? to[0] : to,
    variables: { n: to.length },
  });
  if (res.status !== 202) throw new Error(`POST /v1/notifications: ${res.status}`);
}

async function drain(stack: ReturnType<typeof benchStack>, timeoutMs: number): Promise<void> {
  await waitFor(async () => (await openMessages(stack)) === 0, {
    what: 'every message final',
    timeoutMs,
    intervalMs: 100,
  });
}

async function runScenario(
  network: Network,
  { plan, limit }: (typeof PLANS)[number],
  instanceCount: 1 | 2,
  { seconds, serviceEnv }: { seconds: number; serviceEnv: Record<string, string> },
  progress: Progress,
): Promise<UtilisationRow> {
  const name = `${network.name} ${plan} ×${instanceCount}`;
  const loadBefore = await waitForQuiet(MAX_LOAD, MAX_LOAD_WAIT_MS, progress);
  const key = `sk_bench_util_${plan}`;
  const sandbox = await startSandboxProcess({
    port: 0,
    apiKeys: `${key}:${plan}:10000000`,
    forwardDelayMs: network.forwardDelayMs,
    returnDelayMs: network.returnDelayMs,
    sentDelayMs: 50,
    deliveredDelayMs: 100,
  });
  const stack = benchStack(`util_${network.name}_${plan}_${instanceCount}`);
  const instances: BenchProcess[] = [];
  try {
    const common = { stack, providerUrl: sandbox.url, providerKey: key, plan, env: serviceEnv };
    progress(`${name}: starting, load ${fmt(loadBefore, 2)}`);
    const first = await startService(common);
    instances.push(first);
    if (instanceCount === 2) {
      instances.push(await startService({ ...common, role: 'worker', publicBaseUrl: first.url }));
    }
    const template = await api(first.url, 'POST', '/v1/templates', {
      key: 'bench',
      body: 'Your order {{n}} has shipped',
    });
    if (template.status !== 201) throw new Error(`template: ${template.status}`);

    await post(first.url, recipients(100, WARM_UP));
    await drain(stack, 60_000);

    const backlog = recipients(1000, limit * seconds);
    progress(`${name}: backlog of ${backlog.length}`);
    const backlogStart = Date.now();
    for (let i = 0; i < backlog.length; i += MAX_RECIPIENTS) {
      await post(first.url, backlog.slice(i, i + MAX_RECIPIENTS));
    }
    await drain(stack, seconds * 4000 + 60_000);
    const throttle = await throttleCounts(instances);
    const stats = await Promise.all(instances.map((i) => i.stats(true)));
    const sandboxStats = await sandbox.stats();

    const { log, messages } = await providerRecords(sandbox.adminUrl, key);
    const during = log.filter((r) => r.at >= backlogStart);
    const sends = during
      .filter((r) => r.method === 'POST' && r.path === '/v1/messages')
      .map((r) => r.at)
      .sort((a, b) => a - b);
    const counted = log.map((r) => r.at).sort((a, b) => a - b);
    let tightest = Number.POSITIVE_INFINITY;
    let overLimit = 0;
    for (let i = 0; i + limit < counted.length; i += 1) {
      const span = counted[i + limit] - counted[i];
      if (span < 1000) overLimit += 1;
      tightest = Math.min(tightest, span);
    }
    const perRecipient = new Map<string, number>();
    for (const m of messages) perRecipient.set(m.to, (perRecipient.get(m.to) ?? 0) + 1);
    const [delivered] = await stack.sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages WHERE status = 'delivered'`,
    );
    const spanS = (sends[sends.length - 1] - sends[0]) / 1000;
    return {
      network: network.name,
      plan,
      limit,
      instances: instanceCount,
      loadBefore,
      messages: backlog.length,
      sends: sends.length,
      utilisation: (sends.length - 1) / spanS / limit,
      rateLimited: log.filter((r) => r.status === 429).length,
      requests: during.length,
      maxInSecond: maxInSlidingWindow(counted, 1000),
      overLimitWindows: overLimit,
      tightestSpanMs: tightest,
      throttle,
      duplicates: [...perRecipient.values()].filter((n) => n > 1).length,
      notDelivered: WARM_UP + backlog.length - delivered.n,
      processes: [
        ...stats.map((s, i) =>
          peakOf(`utilisation ${name} / ${i === 0 ? 'all' : 'worker'}`, 'service', s, true),
        ),
        peakOf(`utilisation ${name} / sandbox`, 'sandbox', sandboxStats),
      ],
    };
  } finally {
    for (const instance of [...instances].reverse()) await instance.close();
    await sandbox.close();
    await stack.cleanup();
  }
}

export async function runUtilisation(options: UtilisationOptions = {}): Promise<UtilisationResult> {
  const {
    networks = NETWORKS.map((n) => n.name),
    seconds = SECONDS,
    serviceEnv = SERVICE_ENV,
    progress = stderrProgress,
  } = options;
  const chosen = NETWORKS.filter((n) => networks.includes(n.name));
  if (chosen.length === 0 || chosen.length !== networks.length) {
    throw new Error(`unknown network; pick from ${NETWORKS.map((n) => n.name).join(', ')}`);
  }
  const rows: UtilisationRow[] = [];
  for (const network of chosen) {
    for (const plan of PLANS) {
      for (const instances of [1, 2] as const) {
        rows.push(await runScenario(network, plan, instances, { seconds, serviceEnv }, progress));
      }
    }
  }
  const problems = rows.flatMap((r) => {
    const where = `utilisation ${r.network} ${r.plan} ×${r.instances}`;
    return [
      ...(r.duplicates > 0 ? [`${where}: ${r.duplicates} recipients sent twice`] : []),
      ...(r.notDelivered > 0 ? [`${where}: ${r.notDelivered} messages not delivered`] : []),
    ];
  });
  return { seconds, networks: chosen, serviceEnv, rows, problems };
}

/** Whether a row meets the target: ≥ 0.99 at loopback, ≥ 0.97 at latency, no 429. */
export function utilisationMet(row: UtilisationRow): boolean {
  const target = row.network === 'loopback' ? 0.99 : 0.97;
  return row.utilisation >= target && row.rateLimited === 0 && row.maxInSecond <= row.limit;
}

export function utilisationLines(result: UtilisationResult): string[] {
  const out = [
    `Backlog ${result.seconds} s worth of the limit per row, after a warm-up of ${WARM_UP} messages; service env ${JSON.stringify(result.serviceEnv)}.`,
    '',
    '| network | plan | processes | backlog msgs | sends | utilisation | 429s | provider requests in the backlog | max in any sliding 1 s | windows over the limit | tightest span of limit+1 ms | held by the log | margin widened | duplicates | not delivered | load before |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of result.rows) {
    out.push(
      `| ${r.network} | ${r.plan} (${r.limit}/s) | ${r.instances} | ${r.messages} | ${r.sends} | ${fmt(r.utilisation, 3)} | ${r.rateLimited} | ${r.requests} | ${r.maxInSecond} | ${r.overLimitWindows} | ${fmt(r.tightestSpanMs)} | ${r.throttle.held_by_log ?? 0} | ${r.throttle.margin_widened ?? 0} | ${r.duplicates} | ${r.notDelivered} | ${fmt(r.loadBefore, 2)} |`,
    );
  }
  out.push('', ...result.networks.map((n) => `- \`${n.name}\`: ${n.label}`));
  return out;
}

async function main(): Promise<void> {
  Logger.overrideLogger(false);
  const before = machineLine();
  const wanted = process.argv.slice(2);
  const result = await runUtilisation(wanted.length ? { networks: wanted } : {});
  console.log(`\nBefore: ${before}\nAfter:  ${machineLine()}\n`);
  console.log(utilisationLines(result).join('\n'));
  failOnProblems(result.problems);
}

runScript(module, main);
