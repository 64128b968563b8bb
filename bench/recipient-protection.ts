/*
 * What recipient protection costs intake: `POST /v1/notifications` with the protections as
 * shipped (defaults) against the same service with them off, on the same box in the same run.
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/recipient-protection.ts [--profile]
 *
 * Two APP_ROLE=api instances, each on a stack of its own (database, Redis prefix):
 * - **on**: default settings (caps 5/1h, 30/1h, 2/24h; marketing quiet hours 21:00-08:00) and
 *   10,000 live suppression entries (70% scope marketing, 30% all) inserted by SQL;
 * - **off**: RECIPIENT_CAP_*=0, QUIET_HOURS_*=off, an empty suppression list. (Validity per
 *   category has no off: it is one addition per message either way.)
 * Both get the same requests from the same generator: 40% one-time codes to 1 number, 40%
 * transactional to 2, 20% marketing to 5; numbers from five countries (US and AU have several
 * zones, DE, FR and JP one); a `timezone` on every third request; one number of every tenth
 * transactional or marketing request taken from the suppression list. Messages are due now (the
 * cap counts only those at intake), so every request meets every rule. A 2 s warm-up per
 * instance, then ROUNDS rounds of one measured phase per instance, the order swapped each round
 * so that drift in the VM falls on both. Afterwards SQL checks that every 202 stored its
 * notification and messages, and counts how the messages ended.
 *
 * --profile runs both instances with --cpu-prof and prints the functions with the most self time.
 *
 * Env: PROTECTION_BENCH_SECONDS (8 per phase), PROTECTION_BENCH_ROUNDS (3),
 * INTAKE_BENCH_CONNECTIONS (50), BENCH_PG_URL, BENCH_REDIS_URL.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { topFunctions, WARM_UP_SECONDS } from './intake';
import {
  ADMIN_KEY,
  api,
  type BenchProcess,
  type BenchStack,
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

export const PROTECTION_SECONDS = Number(process.env.PROTECTION_BENCH_SECONDS ?? 8);
export const PROTECTION_ROUNDS = Number(process.env.PROTECTION_BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.INTAKE_BENCH_CONNECTIONS ?? 50);
export const SUPPRESSED_ENTRIES = 10_000;
const PROFILE_DIR = join(__dirname, 'profiles');

export const PROTECTIONS_OFF: Record<string, string> = {
  RECIPIENT_CAP_OTP: '0',
  RECIPIENT_CAP_TRANSACTIONAL: '0',
  RECIPIENT_CAP_MARKETING: '0',
  QUIET_HOURS_OTP: 'off',
  QUIET_HOURS_TRANSACTIONAL: 'off',
  QUIET_HOURS_MARKETING: 'off',
};

const TEMPLATES = [
  { key: 'bench_otp', category: 'otp', body: 'Your code is {{code}}' },
  { key: 'bench_tx', category: 'transactional', body: 'Order {{code}} has shipped' },
  { key: 'bench_mkt', category: 'marketing', body: 'Sale ends Sunday: code {{code}}' },
] as const;

/** Per kind of request: its template, its number of recipients, its share of requests (of 10). */
const MIX = [
  { template: 'bench_otp', recipients: 1, tenths: 4 },
  { template: 'bench_tx', recipients: 2, tenths: 4 },
  { template: 'bench_mkt', recipients: 5, tenths: 2 },
] as const;

const ZONES = ['Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'Australia/Sydney'];

/**
 * The n-th number of the bench: valid mobile numbers of five countries in turn, distinct for
 * distinct n below 10 million.
 */
export function benchNumber(n: number): string {
  const digits = (width: number): string => String(Math.floor(n / 5)).padStart(width, '0');
  switch (n % 5) {
    case 0:
      return `+1415${String(2_000_000 + Math.floor(n / 5)).padStart(7, '0')}`; // US: several zones
    case 1:
      return `+491512${digits(7)}`; // DE
    case 2:
      return `+3361${digits(7)}`; // FR
    case 3:
      return `+6141${digits(7)}`; // AU: several zones
    default:
      return `+8190${10_000_000 + Math.floor(n / 5)}`; // JP
  }
}

/** Numbers of the suppression list: a range of their own. */
const SUPPRESSED_BASE = 5_000_000;
type Mode = 'on' | 'off';

/** A request generator: each instance gets its own, so both see the same sequence of requests. */
function generator(): { next: () => { body: string; messages: number } } {
  let request = 0;
  let number = 0;
  let suppressible = 0;
  return {
    next: () => {
      request += 1;
      const kind = MIX[pickKind(request)];
      const to = Array.from({ length: kind.recipients }, () => benchNumber(number++));
      if (kind.template !== 'bench_otp' && ++suppressible % 10 === 0) {
        // A stride prime to 10,000 walks all entries, both scopes in their 7:3 mix.
        const entry = ((suppressible / 10) * 7919) % SUPPRESSED_ENTRIES;
        to[0] = benchNumber(SUPPRESSED_BASE + entry);
      }
      const body: Record<string, unknown> = {
        template: kind.template,
        to,
        variables: { code: String(request) },
      };
      if (request % 3 === 0) body.timezone = ZONES[(request / 3) % ZONES.length];
      return { body: JSON.stringify(body), messages: kind.recipients };
    },
  };
}

function pickKind(request: number): number {
  let slot = request % 10;
  for (const [i, kind] of MIX.entries()) {
    if (slot < kind.tenths) return i;
    slot -= kind.tenths;
  }
  return 0;
}

interface Phase {
  elapsedS: number;
  requests: number;
  messages: number;
  other: number;
  latencies: number[];
  serviceCpuMs: number;
}

async function load(
  instance: BenchProcess,
  next: () => { body: string; messages: number },
  seconds: number,
): Promise<Phase> {
  const port = Number(new URL(instance.url).port);
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const headers = { authorization: `Bearer ${ADMIN_KEY}` };
  const latencies: number[] = [];
  let requests = 0;
  let messages = 0;
  let other = 0;
  const before = await instance.stats();
  const started = performance.now();
  const stopAt = started + seconds * 1000;
  const loop = async (): Promise<void> => {
    while (performance.now() < stopAt) {
      const { body, messages: count } = next();
      const t0 = performance.now();
      const status = await postOnce(agent, port, '/v1/notifications', body, headers).then(
        (res) => res.status,
        () => 0,
      );
      latencies.push(performance.now() - t0);
      if (status === 202) {
        requests += 1;
        messages += count;
      } else other += 1;
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, () => loop()));
  const elapsedS = (performance.now() - started) / 1000;
  agent.destroy();
  const after = await instance.stats();
  return {
    elapsedS,
    requests,
    messages,
    other,
    latencies,
    serviceCpuMs: after.cpuMs - before.cpuMs,
  };
}

export interface ModeFigures {
  /** Measured phases' total length. */
  elapsedS: number;
  requests: number;
  messages: number;
  other: number;
  requestsPerSecond: number;
  messagesPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Per phase, in the order run: requests per second. */
  phases: number[];
  serviceCpuPerRequestMs: number;
  /** How the stored messages ended, by status and error code / deferral (warm-up included). */
  outcomes: Record<string, number>;
}

export interface ProtectionResult {
  seconds: number;
  rounds: number;
  connections: number;
  suppressionEntries: number;
  on: ModeFigures;
  off: ModeFigures;
  /** 1 − on/off, in %: positive means the protections cost throughput. */
  throughputOverheadPct: number;
  p50OverheadPct: number;
  p95OverheadPct: number;
  processes: ProcessPeak[];
  profiles: { file: string; top: string[] }[];
  problems: string[];
}

export interface ProtectionOptions {
  seconds?: number;
  rounds?: number;
  profile?: boolean;
  progress?: Progress;
}

async function seedSuppressions(stack: BenchStack): Promise<void> {
  const numbers = Array.from({ length: SUPPRESSED_ENTRIES }, (_, i) =>
    benchNumber(SUPPRESSED_BASE + i),
  );
  await stack.sql(
    `INSERT INTO suppressions (recipient, scope, reason, source)
     SELECT n, CASE WHEN i % 10 < 7 THEN 'marketing' ELSE 'all' END, 'bench', 'bench'
     FROM unnest($1::text[]) WITH ORDINALITY AS t(n, i)`,
    [numbers],
  );
}

async function outcomes(stack: BenchStack): Promise<Record<string, number>> {
  const rows = await stack.sql<{ outcome: string; n: number }>(
    `SELECT m.status || COALESCE(' ' || m.error_code, '') ||
            CASE WHEN EXISTS (SELECT 1 FROM message_events e
                              WHERE e.message_id = m.id AND e.type = 'deferred')
                 THEN ' (deferred)' ELSE '' END AS outcome,
            count(*)::int AS n
     FROM messages m GROUP BY 1 ORDER BY 1`,
  );
  return Object.fromEntries(rows.map((r) => [r.outcome, r.n]));
}

function figures(phases: Phase[], outcome: Record<string, number>): ModeFigures {
  const elapsedS = phases.reduce((s, p) => s + p.elapsedS, 0);
  const requests = phases.reduce((s, p) => s + p.requests, 0);
  const messages = phases.reduce((s, p) => s + p.messages, 0);
  const other = phases.reduce((s, p) => s + p.other, 0);
  const latencies = phases.flatMap((p) => p.latencies);
  const cpu = phases.reduce((s, p) => s + p.serviceCpuMs, 0);
  return {
    elapsedS,
    requests,
    messages,
    other,
    requestsPerSecond: requests / elapsedS,
    messagesPerSecond: messages / elapsedS,
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    p99Ms: percentile(latencies, 99),
    phases: phases.map((p) => p.requests / p.elapsedS),
    serviceCpuPerRequestMs: cpu / Math.max(1, requests + other),
    outcomes: outcome,
  };
}

export async function runRecipientProtection(
  options: ProtectionOptions = {},
): Promise<ProtectionResult> {
  const {
    seconds = PROTECTION_SECONDS,
    rounds = PROTECTION_ROUNDS,
    profile = false,
    progress = stderrProgress,
  } = options;
  const stacks = { on: benchStack('protection_on'), off: benchStack('protection_off') };
  const instances: Partial<Record<Mode, BenchProcess>> = {};
  if (profile) mkdirSync(PROFILE_DIR, { recursive: true });
  const profilesBefore = profile ? new Set(readdirSync(PROFILE_DIR)) : new Set<string>();
  const execArgv = profile ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  let result: Omit<ProtectionResult, 'profiles'>;
  try {
    progress('starting two api instances: protections on (defaults) and off');
    instances.on = await startApiService(stacks.on, { execArgv });
    instances.off = await startApiService(stacks.off, { env: PROTECTIONS_OFF, execArgv });
    for (const mode of ['on', 'off'] as const) {
      for (const template of TEMPLATES) {
        const created = await api(instances[mode]!.url, 'POST', '/v1/templates', template);
        if (created.status !== 201) throw new Error(`template ${template.key}: ${created.status}`);
      }
    }
    progress(`seeding ${SUPPRESSED_ENTRIES.toLocaleString('en-US')} suppression entries`);
    await seedSuppressions(stacks.on);
    await stacks.on.sql('ANALYZE suppressions');
    const generators = { on: generator(), off: generator() };
    const accepted = { on: 0, off: 0 };
    const unanswered = { on: 0, off: 0 };
    for (const mode of ['on', 'off'] as const) {
      progress(`warm-up ${WARM_UP_SECONDS} s, ${mode}`);
      const warm = await load(instances[mode]!, generators[mode].next, WARM_UP_SECONDS);
      accepted[mode] += warm.requests;
      unanswered[mode] += warm.other;
    }
    const phases: Record<Mode, Phase[]> = { on: [], off: [] };
    for (let round = 0; round < rounds; round++) {
      const order: Mode[] = round % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
      for (const mode of order) {
        progress(`round ${round + 1}/${rounds}: ${mode}, ${CONNECTIONS} connections, ${seconds} s`);
        const phase = await load(instances[mode]!, generators[mode].next, seconds);
        phases[mode].push(phase);
        accepted[mode] += phase.requests;
        unanswered[mode] += phase.other;
      }
    }
    const problems: string[] = [];
    const byMode = {} as Record<Mode, ModeFigures>;
    for (const mode of ['on', 'off'] as const) {
      const [stored] = await stacks[mode].sql<{ notifications: number }>(
        `SELECT count(*)::int AS notifications FROM notifications`,
      );
      const [mismatched] = await stacks[mode].sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM notifications n
         WHERE n.recipient_count <> (SELECT count(*) FROM messages m WHERE m.notification_id = n.id)`,
      );
      if (
        stored.notifications < accepted[mode] ||
        stored.notifications > accepted[mode] + unanswered[mode]
      ) {
        problems.push(
          `${mode}: ${accepted[mode]} requests answered 202 (${unanswered[mode]} others) but ${stored.notifications} notifications stored`,
        );
      }
      if (mismatched.n > 0) {
        problems.push(`${mode}: ${mismatched.n} notifications without all their messages`);
      }
      byMode[mode] = figures(phases[mode], await outcomes(stacks[mode]));
    }
    if (!Object.keys(byMode.on.outcomes).some((o) => o.includes('recipient_suppressed'))) {
      problems.push('on: no message was suppressed: the suppression list was not applied');
    }
    if (Object.keys(byMode.off.outcomes).some((o) => o.startsWith('failed'))) {
      problems.push('off: a message failed at intake with the protections off');
    }
    const pct = (on: number, off: number, lowerIsBetter: boolean): number =>
      100 * (lowerIsBetter ? on / off - 1 : 1 - on / off);
    const processes: ProcessPeak[] = [];
    for (const mode of ['on', 'off'] as const) {
      processes.push(peakOf(`protection ${mode} / api`, 'service', await instances[mode]!.stats()));
    }
    result = {
      seconds,
      rounds,
      connections: CONNECTIONS,
      suppressionEntries: SUPPRESSED_ENTRIES,
      on: byMode.on,
      off: byMode.off,
      throughputOverheadPct: pct(byMode.on.requestsPerSecond, byMode.off.requestsPerSecond, false),
      p50OverheadPct: pct(byMode.on.p50Ms, byMode.off.p50Ms, true),
      p95OverheadPct: pct(byMode.on.p95Ms, byMode.off.p95Ms, true),
      processes,
      problems,
    };
  } finally {
    for (const instance of Object.values(instances)) await instance.close();
    await stacks.on.cleanup();
    await stacks.off.cleanup();
  }
  const profiles = profile
    ? readdirSync(PROFILE_DIR)
        .filter((f) => !profilesBefore.has(f))
        .map((file) => ({ file, top: topFunctions(join(PROFILE_DIR, file), 25) }))
    : [];
  return { ...result, profiles };
}

/** The figures as Markdown: one row per mode, the overhead, how the messages ended. */
export function protectionLines(r: ProtectionResult): string[] {
  const row = (label: string, m: ModeFigures): string =>
    `| ${label} | ${fmt(m.requestsPerSecond)} | ${fmt(m.messagesPerSecond)} | ${fmt(m.p50Ms, 1)} | ${fmt(m.p95Ms, 1)} | ${fmt(m.p99Ms, 1)} | ${m.other} | ${m.phases.map((p) => fmt(p)).join(' / ')} | ${fmt(m.serviceCpuPerRequestMs, 2)} |`;
  const signed = (value: number): string => `${value >= 0 ? '+' : ''}${fmt(value, 1)}%`;
  const ended = (m: ModeFigures): string =>
    Object.entries(m.outcomes)
      .map(([outcome, n]) => `${outcome} ${n.toLocaleString('en-US')}`)
      .join(', ');
  return [
    '| protections | requests/s | messages/s | p50 ms | p95 ms | p99 ms | non-202 | requests/s per phase | service CPU per request ms |',
    '|---|---:|---:|---:|---:|---:|---:|---|---:|',
    row('off', r.off),
    row('on (defaults)', r.on),
    '',
    `With the protections on: ${signed(-r.throughputOverheadPct)} requests/s, p50 ${signed(r.p50OverheadPct)}, p95 ${signed(r.p95OverheadPct)} (against off; the bar: no more than 10% fewer requests/s). ${r.rounds} rounds × ${r.seconds} s per mode, ${r.connections} connections, ${r.suppressionEntries.toLocaleString('en-US')} suppression entries (on).`,
    '',
    `Messages stored (warm-up included), on: ${ended(r.on)}; off: ${ended(r.off)}.`,
  ];
}

async function main(): Promise<void> {
  const machineBefore = machineLine();
  const profile = process.argv.includes('--profile');
  const result = await runRecipientProtection({ profile });
  console.log(machineBefore);
  console.log(protectionLines(result).join('\n'));
  for (const { file, top } of result.profiles) {
    console.log(`\nCPU profile ${file}, most self time:\n`);
    console.log(top.join('\n'));
  }
  failOnProblems(result.problems);
}

runScript(module, main);
