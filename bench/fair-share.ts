/*
 * Fair share between teams (issue #20): one team's campaign must not hold another team's
 * messages behind it. Team A posts a backlog of normal messages; 2 s later team B posts 50. The
 * real service sends both through the queue, the workers and the shared throttle to the provider
 * sandbox; every figure comes from the sandbox's own request log (arrival times at the provider).
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/fair-share.ts [scenario ...]
 *
 * Scenarios (default: all three, in this order):
 *   equal           standard plan (10/s), one process, weights 1:1
 *   weighted        standard plan, one process, B's weight 3 (A 1): B's share should be 0.75
 *   enterprise-x2   enterprise plan (50/s), two processes (all + worker), weights 1:1
 *   enterprise-x2-one-team  the same with B posting under A's key: one team, first come, first
 *                   served (a control for the rate and B's wait; run only when named)
 *
 * Figures: B's last message at the provider after B's post (target: B's count ÷ B's share of the
 * rate + 2 s, 50 / 5 + 2 = 12 s at 10/s and 1:1; first come, first served would put it behind
 * all of A's), B's share of the sends while both teams were due (from B's first to its last
 * arrival), the send rate over the drain (whole run and every 5 s window of it, ÷ the plan),
 * per-second arrivals while both were due, and that every message went once.
 *
 * A's backlog is 1,000 messages at the standard plan (100 s of sending) and 3,000 at the
 * enterprise plan (60 s): the issue's 3,000 at 10/s would take 5 min per scenario. B's target
 * does not depend on it as long as A is still due when B is done. FAIR_SHARE_A_STANDARD and
 * FAIR_SHARE_A_ENTERPRISE change them (3000 for the issue's exact figure). One recipient per
 * request (SEND_BATCH_MAX=1): each team's messages share one text, and the shares are of requests.
 *
 * Env: FAIR_SHARE_A_STANDARD (1000), FAIR_SHARE_A_ENTERPRISE (3000), FAIR_SHARE_B (50),
 *      FAIR_SHARE_LATENCY_MS (2: a fast provider, so the throttle's bound is ~0.995),
 *      FAIR_SHARE_MAX_LOAD (1.5: each scenario waits up to 2 min for the 1-minute load average
 *      to drop below it, and records the load it started at), BENCH_PG_URL, BENCH_REDIS_URL.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { callApi } from '../tools/stack';
import {
  ADMIN_KEY,
  api,
  arrivals,
  type BenchProcess,
  benchStack,
  failOnProblems,
  fmt,
  machineLine,
  ONE_RECIPIENT_PER_REQUEST,
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

const number = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);

const B_DELAY_MS = 2000;
const REQUEST_SIZE = 100;
/**
 * The send rate is judged over windows of 50 sends' worth (5 s at 10/s, 1 s at 50/s): a 1 s
 * bucket at 10/s holds 9 or 10 sends by where its edges fall, so one send is 10% of it.
 */
const RATE_WINDOW_SENDS = 50;
const MAX_LOAD_WAIT_MS = 120_000;

export interface FairShareScenario {
  name: string;
  plan: 'standard' | 'enterprise';
  instances: 1 | 2;
  /** B's weight; A's is 1. */
  weightB: number;
  /** B posts with A's key: one team, first come first served (a control, not in the suite). */
  oneTeam?: boolean;
}

export const FAIR_SHARE_SCENARIOS: FairShareScenario[] = [
  { name: 'equal', plan: 'standard', instances: 1, weightB: 1 },
  { name: 'weighted', plan: 'standard', instances: 1, weightB: 3 },
  { name: 'enterprise-x2', plan: 'enterprise', instances: 2, weightB: 1 },
  { name: 'enterprise-x2-one-team', plan: 'enterprise', instances: 2, weightB: 1, oneTeam: true },
];

/** What the suite runs; the one-team control only when named. */
const SUITE_SCENARIOS = ['equal', 'weighted', 'enterprise-x2'];

export interface FairShareOptions {
  scenarios?: string[];
  aStandard?: number;
  aEnterprise?: number;
  b?: number;
  latencyMs?: number;
  maxLoad?: number;
  progress?: Progress;
}

export interface FairShareRow {
  scenario: FairShareScenario;
  limit: number;
  loadBefore: number;
  aMessages: number;
  bMessages: number;
  /** B's expected share of the rate: weightB / (1 + weightB). */
  expectedShare: number;
  /** B's count ÷ (its share × the limit) + 2 s. */
  targetS: number;
  /**
   * What first come, first served would give B's last message: every message accepted before
   * B's POST first (at 50/s A is still posting when B does), at the limit from the first send.
   */
  fcfsS: number;
  /** A's messages accepted (202 received) before B's POST left. */
  aBeforeB: number;
  /** From B's POST leaving to its 202, ms. */
  bAcceptMs: number;
  /** From B's POST leaving to B's first and last arrival at the provider, s. */
  bFirstS: number;
  bLastS: number;
  /** From A's first POST to A's last arrival, s. */
  aLastS: number;
  /** B's sends ÷ all sends between B's first and last arrival. */
  bShare: number;
  sendsInShareWindow: number;
  /** (sends − 1) ÷ (last − first send) ÷ limit over the whole drain. */
  rateWhole: number;
  /** Length of the windows the rate is judged over, ms. */
  rateWindowMs: number;
  /** The lowest rate ÷ limit of any such window between the first and last send. */
  rateMinWindow: number;
  /** The same over the windows inside [B's post, B's last arrival]. */
  rateMinWindowBothDue: number;
  /** From A's first POST to the 202 of its last, s: the service took intake and sent meanwhile. */
  aPostedS: number;
  /** Where the lowest window while both were due starts, s after B's post. */
  lowestBothDueAtS: number;
  /** Arrivals per whole second from A's first POST to the last send. */
  perSecondAll: number[];
  /** Arrivals per whole second from B's post while B was due. */
  perSecondBothDue: { a: number; b: number }[];
  maxGapMs: number;
  rateLimited: number;
  aSent: number;
  bSent: number;
  duplicates: number;
  notDelivered: number;
  processes: ProcessPeak[];
}

export interface FairShareResult {
  latencyMs: number;
  rows: FairShareRow[];
  problems: string[];
}

async function teamKey(url: string, team: string): Promise<string> {
  const res = await callApi<{ key: string }>(url, 'POST', '/v1/api-keys', {
    key: ADMIN_KEY,
    body: { name: `bench-${team}`, team, scopes: ['notifications:send'] },
  });
  if (res.status !== 201) throw new Error(`api key for ${team}: ${res.status}`);
  return res.body.key;
}

async function post(url: string, key: string, to: string[]): Promise<void> {
  const res = await callApi(url, 'POST', '/v1/notifications', {
    key,
    body: { template: 'bench', to, variables: { n: to.length } },
  });
  if (res.status !== 202) throw new Error(`POST /v1/notifications: ${res.status}`);
}

/**
 * The lowest rate (per second) in any window of `windowMs` starting at a send in
 * [from, to − windowMs], and where that window starts.
 */
function lowestWindow(
  times: number[],
  from: number,
  to: number,
  windowMs: number,
): { rate: number; at: number } {
  let min = Number.POSITIVE_INFINITY;
  let at = Number.NaN;
  let j = 0;
  for (let i = 0; i < times.length; i += 1) {
    if (times[i] < from || times[i] + windowMs > to) continue;
    j = Math.max(j, i);
    while (j < times.length && times[j] < times[i] + windowMs) j += 1;
    if (j - i < min) {
      min = j - i;
      at = times[i];
    }
  }
  return { rate: Number.isFinite(min) ? (min * 1000) / windowMs : Number.NaN, at };
}

async function runScenario(
  scenario: FairShareScenario,
  options: Required<Omit<FairShareOptions, 'scenarios' | 'progress'>>,
  progress: Progress,
): Promise<FairShareRow> {
  const limit = scenario.plan === 'standard' ? 10 : 50;
  const aCount = scenario.plan === 'standard' ? options.aStandard : options.aEnterprise;
  const bCount = options.b;
  const key = `sk_bench_fair_${scenario.plan}`;
  const loadBefore = await waitForQuiet(options.maxLoad, MAX_LOAD_WAIT_MS, progress);
  const sandbox = await startSandboxProcess({
    port: 0,
    apiKeys: `${key}:${scenario.plan}:10000000`,
    latencyMs: options.latencyMs,
    sentDelayMs: 50,
    deliveredDelayMs: 100,
  });
  const stack = benchStack(`fair_${scenario.name}`);
  const instances: BenchProcess[] = [];
  try {
    const common = {
      stack,
      providerUrl: sandbox.url,
      providerKey: key,
      plan: scenario.plan,
      env: { ...ONE_RECIPIENT_PER_REQUEST },
    };
    progress(
      `${scenario.name}: starting ${scenario.instances} process(es), load ${fmt(loadBefore, 2)}`,
    );
    const first = await startService(common);
    instances.push(first);
    if (scenario.instances === 2) {
      instances.push(await startService({ ...common, role: 'worker', publicBaseUrl: first.url }));
    }
    const template = await api(first.url, 'POST', '/v1/templates', {
      key: 'bench',
      body: 'Your order {{n}} has shipped',
    });
    if (template.status !== 201) throw new Error(`template: ${template.status}`);
    const keyA = await teamKey(first.url, 'team-a');
    const keyB = await teamKey(first.url, 'team-b');
    await stack.sql(`INSERT INTO teams (team, weight) VALUES ('team-a', 1), ('team-b', $1)`, [
      scenario.weightB,
    ]);
    // Each process reads the teams' settings at most every 2 s: let a read before now expire.
    await delay(2100);
    for (const instance of instances) await instance.stats(true);

    const aTo = recipients(100, aCount);
    const bTo = recipients(Number(aTo[aTo.length - 1].slice(-4)) + 1, bCount);
    progress(
      `${scenario.name}: A posts ${aCount} in requests of ${REQUEST_SIZE}, B ${bCount} 2 s later`,
    );
    const aStart = Date.now();
    const postB = (async () => {
      await delay(Math.max(0, aStart + B_DELAY_MS - Date.now()));
      const at = Date.now();
      await post(first.url, scenario.oneTeam ? keyA : keyB, bTo);
      return { at, acceptMs: Date.now() - at };
    })();
    const aAccepted: { at: number; n: number }[] = [];
    for (let i = 0; i < aTo.length; i += REQUEST_SIZE) {
      const batch = aTo.slice(i, i + REQUEST_SIZE);
      await post(first.url, keyA, batch);
      aAccepted.push({ at: Date.now(), n: batch.length });
    }
    const aPostedS = (Date.now() - aStart) / 1000;
    const b = await postB;
    await waitFor(async () => (await openMessages(stack)) === 0, {
      what: 'all messages final',
      timeoutMs: ((aCount + bCount) / limit) * 3000 + 60_000,
      intervalMs: 250,
    });
    const after = await Promise.all(instances.map((i) => i.stats(true)));

    const { log, messages } = await providerRecords(sandbox.adminUrl, key);
    const { byRecipient } = arrivals(log, messages, options.latencyMs);
    const aSet = new Set(aTo);
    const bSet = new Set(bTo);
    const sends = [...byRecipient.entries()]
      .map(([to, at]) => ({ at, team: bSet.has(to) ? 'b' : aSet.has(to) ? 'a' : '?' }))
      .sort((x, y) => x.at - y.at);
    const bTimes = sends.filter((s) => s.team === 'b').map((s) => s.at);
    const times = sends.map((s) => s.at);
    const bFirst = bTimes[0];
    const bLast = bTimes[bTimes.length - 1];
    const inWindow = sends.filter((s) => s.at >= bFirst && s.at <= bLast);
    const perSecond: { a: number; b: number }[] = [];
    for (let t = b.at; t + 1000 <= bLast; t += 1000) {
      const second = sends.filter((s) => s.at >= t && s.at < t + 1000);
      perSecond.push({
        a: second.filter((s) => s.team === 'a').length,
        b: second.filter((s) => s.team === 'b').length,
      });
    }
    let maxGapMs = 0;
    for (let i = 1; i < times.length; i += 1)
      maxGapMs = Math.max(maxGapMs, times[i] - times[i - 1]);
    const perRecipient = new Map<string, number>();
    for (const m of messages) perRecipient.set(m.to, (perRecipient.get(m.to) ?? 0) + 1);
    const [delivered] = await stack.sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages WHERE status = 'delivered'`,
    );
    const expectedShare = scenario.weightB / (1 + scenario.weightB);
    const aTimes = sends.filter((s) => s.team === 'a').map((s) => s.at);
    const aBeforeB = aAccepted.filter((r) => r.at <= b.at).reduce((n, r) => n + r.n, 0);
    const sandboxStats = await sandbox.stats();
    const windowMs = (RATE_WINDOW_SENDS / limit) * 1000;
    const bothDue = lowestWindow(times, b.at, bLast, windowMs);
    const perSecondAll: number[] = [];
    for (let t = aStart; t <= times[times.length - 1]; t += 1000) {
      perSecondAll.push(times.filter((at) => at >= t && at < t + 1000).length);
    }
    return {
      scenario,
      limit,
      loadBefore,
      aMessages: aCount,
      bMessages: bCount,
      expectedShare,
      targetS: bCount / (expectedShare * limit) + 2,
      fcfsS: (times[0] - b.at) / 1000 + (aBeforeB + bCount) / limit,
      aBeforeB,
      bAcceptMs: b.acceptMs,
      bFirstS: (bFirst - b.at) / 1000,
      bLastS: (bLast - b.at) / 1000,
      aLastS: (aTimes[aTimes.length - 1] - aStart) / 1000,
      bShare: inWindow.filter((s) => s.team === 'b').length / inWindow.length,
      sendsInShareWindow: inWindow.length,
      rateWhole: (times.length - 1) / ((times[times.length - 1] - times[0]) / 1000) / limit,
      rateWindowMs: windowMs,
      rateMinWindow: lowestWindow(times, times[0], times[times.length - 1], windowMs).rate / limit,
      rateMinWindowBothDue: bothDue.rate / limit,
      aPostedS,
      lowestBothDueAtS: (bothDue.at - b.at) / 1000,
      perSecondAll,
      perSecondBothDue: perSecond,
      maxGapMs,
      rateLimited: log.filter((r) => r.status === 429).length,
      aSent: aTimes.length,
      bSent: bTimes.length,
      duplicates: [...perRecipient.values()].filter((n) => n > 1).length,
      notDelivered: aCount + bCount - delivered.n,
      processes: [
        ...after.map((stats, i) =>
          peakOf(
            `fair share ${scenario.name} / ${i === 0 ? 'all' : 'worker'} ${i + 1}`,
            'service',
            stats,
            true,
          ),
        ),
        peakOf(`fair share ${scenario.name} / sandbox`, 'sandbox', sandboxStats),
      ],
    };
  } finally {
    for (const instance of [...instances].reverse()) await instance.close();
    await sandbox.close();
    await stack.cleanup();
  }
}

/**
 * Whether a row meets the issue's targets: B's wait; B's share at 3:1; the rate over the drain
 * and over every window while both were due (none fits when B is done within one); all sent once.
 */
export function rowMet(r: FairShareRow): boolean {
  return (
    r.bLastS <= r.targetS &&
    (r.scenario.weightB === 1 || Math.abs(r.bShare - r.expectedShare) <= 0.05) &&
    r.rateWhole >= 0.97 &&
    !(r.rateMinWindowBothDue < 0.97) &&
    r.aSent === r.aMessages &&
    r.bSent === r.bMessages &&
    r.duplicates === 0 &&
    r.notDelivered === 0
  );
}

export function fairShareLines(result: FairShareResult): string[] {
  const out: string[] = [
    '| scenario | limit/s | weights A:B | load before | A msgs | B msgs | B 202 ms | B first / last at provider s | target s | FCFS would be s | B share while both due (sends) | A last at provider s | rate ÷ plan: whole drain / lowest window / lowest window while both due (window) | longest gap ms | 429s | sent A / B | duplicates | not delivered | met? |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of result.rows) {
    out.push(
      `| ${r.scenario.name} | ${r.limit} | 1:${r.scenario.weightB} | ${fmt(r.loadBefore, 2)} | ${r.aMessages} | ${r.bMessages} | ${fmt(r.bAcceptMs)} | ${fmt(r.bFirstS, 2)} / ${fmt(r.bLastS, 2)} | ${fmt(r.targetS, 1)} | ${fmt(r.fcfsS)} | ${fmt(r.bShare, 3)} (${r.sendsInShareWindow}) | ${fmt(r.aLastS, 1)} | ${fmt(r.rateWhole, 3)} / ${fmt(r.rateMinWindow, 3)} / ${fmt(r.rateMinWindowBothDue, 3)} (${fmt(r.rateWindowMs / 1000)} s) | ${fmt(r.maxGapMs)} | ${r.rateLimited} | ${r.aSent} / ${r.bSent} | ${r.duplicates} | ${r.notDelivered} | ${rowMet(r) ? 'yes' : '**no**'} |`,
    );
  }
  out.push('', 'Arrivals at the provider per second from B’s post while B was due (A+B):', '');
  for (const r of result.rows) {
    out.push(
      `- ${r.scenario.name}: ${r.perSecondBothDue.map((s) => `${s.a}+${s.b}`).join(', ') || '–'} (the lowest window while both due starts ${fmt(r.lowestBothDueAtS, 2)} s after B's post; A's POSTs took ${fmt(r.aPostedS, 1)} s from its first)`,
    );
  }
  out.push('', 'Arrivals per second over the whole run, from A’s first POST:', '');
  for (const r of result.rows) {
    out.push(`- ${r.scenario.name}: ${(r.perSecondAll ?? []).join(' ')}`);
  }
  out.push(
    '',
    `Provider latency ${result.latencyMs} ms. FCFS = B's last if every message accepted before B's POST went first, at the limit from the first send: (first send − B's POST) + (A's accepted before B's POST + B) ÷ limit (A's accepted before B's POST: ${result.rows.map((r) => `${r.scenario.name} ${r.aBeforeB ?? '–'}`).join(', ')}).`,
  );
  return out;
}

export async function runFairShare(options: FairShareOptions = {}): Promise<FairShareResult> {
  const {
    scenarios = SUITE_SCENARIOS,
    aStandard = number('FAIR_SHARE_A_STANDARD', 1000),
    aEnterprise = number('FAIR_SHARE_A_ENTERPRISE', 3000),
    b = number('FAIR_SHARE_B', 50),
    latencyMs = number('FAIR_SHARE_LATENCY_MS', 2),
    maxLoad = number('FAIR_SHARE_MAX_LOAD', 1.5),
    progress = stderrProgress,
  } = options;
  const chosen = FAIR_SHARE_SCENARIOS.filter((s) => scenarios.includes(s.name));
  if (chosen.length === 0 || chosen.length !== scenarios.length) {
    throw new Error(
      `unknown scenario; pick from ${FAIR_SHARE_SCENARIOS.map((s) => s.name).join(', ')}`,
    );
  }
  const rows: FairShareRow[] = [];
  for (const scenario of chosen) {
    rows.push(
      await runScenario(scenario, { aStandard, aEnterprise, b, latencyMs, maxLoad }, progress),
    );
  }
  const problems = rows.flatMap((r) => [
    ...(r.duplicates > 0
      ? [`fair share ${r.scenario.name}: ${r.duplicates} recipients sent twice`]
      : []),
    ...(r.notDelivered > 0
      ? [`fair share ${r.scenario.name}: ${r.notDelivered} messages not delivered`]
      : []),
  ]);
  return { latencyMs, rows, problems };
}

async function main(): Promise<void> {
  Logger.overrideLogger(false);
  const machineBefore = machineLine();
  const wanted = process.argv.slice(2);
  const result = await runFairShare(wanted.length ? { scenarios: wanted } : {});
  console.log(`\nBefore: ${machineBefore}\nAfter:  ${machineLine()}\n`);
  console.log(fairShareLines(result).join('\n'));
  failOnProblems(result.problems);
}

runScript(module, main);
