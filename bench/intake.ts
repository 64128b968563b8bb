/*
 * Intake benchmark: `POST /v1/notifications` per second through one service instance (or two
 * behind a round-robin generator), and where its CPU goes.
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/intake.ts [--profile] [--instances 2]
 *
 * Instances run with APP_ROLE=api in processes of their own (bench/support.ts), on one database
 * and Redis prefix; this process is the load generator: INTAKE_BENCH_CONNECTIONS keep-alive
 * connections (node:http Agent), each a closed loop sending its next request as soon as the
 * previous answer arrives. With two instances the connections are dealt to the two ports in turn
 * (round robin), as a load balancer with sticky keep-alive connections would. Every request is one
 * recipient, scheduled a day ahead (so no send competes), with a distinct number. A 2 s warm-up is
 * not reported. Afterwards SQL checks that every request answered 202 stored exactly one
 * notification and one message.
 *
 * --profile runs the service with --cpu-prof and prints the functions with the most self time
 * (the profile itself is left in bench/profiles/, not committed).
 *
 * Env: INTAKE_BENCH_SECONDS (default 10), INTAKE_BENCH_CONNECTIONS (default 50), BENCH_PG_URL,
 * BENCH_REDIS_URL.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
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

export const INTAKE_SECONDS = Number(process.env.INTAKE_BENCH_SECONDS ?? 10);
export const INTAKE_CONNECTIONS = Number(process.env.INTAKE_BENCH_CONNECTIONS ?? 50);
export const WARM_UP_SECONDS = 2;
const PROFILE_DIR = join(__dirname, 'profiles');
export const INTAKE_TEMPLATE = { key: 'bench_intake', body: 'Your code is {{code}}' };

let sequence = 0;
const tomorrow = new Date(Date.now() + 24 * 3600 * 1000).toISOString();

/** The next intake request: one recipient not used before in this process, a day ahead. */
export function nextIntakeBody(): string {
  sequence += 1;
  const number = `+1415${String(2_000_000 + sequence).padStart(7, '0')}`;
  return JSON.stringify({
    template: INTAKE_TEMPLATE.key,
    to: number,
    variables: { code: String(sequence) },
    scheduled_at: tomorrow,
  });
}

export interface LoadFigures {
  connections: number;
  /** Measured length of the phase. */
  elapsedS: number;
  /** Answered with the expected status. */
  ok: number;
  /** Any other status, or no answer (timeout, reset). */
  other: number;
  perSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Answers with the expected status per target port, in the order given. */
  okPerPort: number[];
  /** CPU of this process (the generator) over the phase, in cores: it shares the box. */
  generatorCores: number;
}

/**
 * The intake generator: `connections` closed loops over keep-alive connections, dealt to `ports`
 * in turn, each posting nextIntakeBody() as soon as its previous answer arrived.
 */
export async function intakeLoad(options: {
  ports: readonly number[];
  connections: number;
  seconds: number;
  expectStatus?: number;
}): Promise<LoadFigures> {
  const { ports, connections, seconds, expectStatus = 202 } = options;
  // One agent per port with its share of the sockets: a loop keeps its connection throughout.
  const agents = ports.map(
    (_, i) =>
      new Agent({
        keepAlive: true,
        maxSockets: Math.ceil((connections - i) / ports.length),
      }),
  );
  const latencies: number[] = [];
  const okPerPort = ports.map(() => 0);
  let other = 0;
  const headers = { authorization: `Bearer ${ADMIN_KEY}` };
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const stopAt = started + seconds * 1000;
  const loop = async (index: number): Promise<void> => {
    const target = index % ports.length;
    while (performance.now() < stopAt) {
      const t0 = performance.now();
      const status = await postOnce(
        agents[target],
        ports[target],
        '/v1/notifications',
        nextIntakeBody(),
        headers,
      ).then(
        (res) => res.status,
        () => 0,
      );
      latencies.push(performance.now() - t0);
      if (status === expectStatus) okPerPort[target] += 1;
      else other += 1;
    }
  };
  await Promise.all(Array.from({ length: connections }, (_, i) => loop(i)));
  const elapsedS = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  for (const agent of agents) agent.destroy();
  const ok = okPerPort.reduce((a, b) => a + b, 0);
  return {
    connections,
    elapsedS,
    ok,
    other,
    perSecond: ok / elapsedS,
    p50Ms: percentile(latencies, 50),
    p90Ms: percentile(latencies, 90),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.reduce((a, b) => Math.max(a, b), 0),
    okPerPort,
    generatorCores: (cpu.user + cpu.system) / 1e6 / elapsedS,
  };
}

export interface IntakeOptions {
  instances?: 1 | 2;
  seconds?: number;
  connections?: number;
  profile?: boolean;
  progress?: Progress;
}

export interface IntakeResult {
  instances: number;
  seconds: number;
  load: LoadFigures;
  /** Service CPU (all instances) per request of the measured phase. */
  cpuPerRequestMs: number;
  /** 202s over the whole run, warm-up included, and what SQL found stored afterwards. */
  accepted: number;
  unanswered: number;
  stored: { notifications: number; messages: number };
  processes: ProcessPeak[];
  /** With `profile`: the functions with the most self time, per profile written. */
  profiles: { file: string; top: string[] }[];
  problems: string[];
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/** Self time per function from a .cpuprofile: sample counts times the mean sampling interval. */
export function topFunctions(path: string, count: number): string[] {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    startTime: number;
    endTime: number;
  };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  for (const id of profile.samples) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const where = frame.url.replace(/^.*node_modules\//, '').replace(/^.*\/work\/[^/]+\//, '');
    const name = `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`;
    self.set(name, (self.get(name) ?? 0) + 1);
  }
  const total = profile.samples.length;
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, n]) => `${((100 * n) / total).toFixed(1).padStart(5)}%  ${name}`);
}

export async function runIntake(options: IntakeOptions = {}): Promise<IntakeResult> {
  const {
    instances: count = 1,
    seconds = INTAKE_SECONDS,
    connections = INTAKE_CONNECTIONS,
    profile = false,
    progress = stderrProgress,
  } = options;
  const stack = benchStack(`intake_x${count}`);
  const instances: BenchProcess[] = [];
  if (profile) mkdirSync(PROFILE_DIR, { recursive: true });
  const profilesBefore = profile ? new Set(readdirSync(PROFILE_DIR)) : new Set<string>();
  let result: Omit<IntakeResult, 'profiles'>;
  try {
    progress(`starting ${count} api instance${count > 1 ? 's' : ''}`);
    // One after the other: the first creates and migrates the database the second then finds.
    for (let i = 0; i < count; i += 1) {
      instances.push(
        await startApiService(stack, {
          execArgv: profile ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [],
        }),
      );
    }
    const ports = instances.map((instance) => Number(new URL(instance.url).port));
    const template = await api(instances[0].url, 'POST', '/v1/templates', INTAKE_TEMPLATE);
    if (template.status !== 201) throw new Error(`template: ${template.status}`);
    progress(`warm-up ${WARM_UP_SECONDS} s`);
    const warmUp = await intakeLoad({ ports, connections, seconds: WARM_UP_SECONDS });
    const before = await Promise.all(instances.map((i) => i.stats()));
    progress(`load: ${connections} connections for ${seconds} s against ${count} instance(s)`);
    const load = await intakeLoad({ ports, connections, seconds });
    const after = await Promise.all(instances.map((i) => i.stats()));
    const cpuMs = after.reduce((sum, s, i) => sum + s.cpuMs - before[i].cpuMs, 0);

    const [stored] = await stack.sql<{ notifications: number; messages: number }>(
      `SELECT (SELECT count(*)::int FROM notifications) AS notifications,
              (SELECT count(*)::int FROM messages) AS messages`,
    );
    const accepted = warmUp.ok + load.ok;
    const unanswered = warmUp.other + load.other;
    const problems: string[] = [];
    // A request that timed out may still have been stored; one that got its 202 must have been.
    if (stored.notifications < accepted || stored.notifications > accepted + unanswered) {
      problems.push(
        `intake: ${accepted} requests answered 202 (${unanswered} others) but ${stored.notifications} notifications stored`,
      );
    }
    if (stored.messages !== stored.notifications) {
      problems.push(
        `intake: ${stored.notifications} one-recipient notifications but ${stored.messages} messages`,
      );
    }
    result = {
      instances: count,
      seconds,
      load,
      cpuPerRequestMs: cpuMs / (load.ok + load.other),
      accepted,
      unanswered,
      stored,
      processes: after.map((s, i) => peakOf(`intake x${count} / api ${i + 1}`, 'service', s)),
      problems,
    };
  } finally {
    for (const instance of instances) await instance.close();
    await stack.cleanup();
  }
  const profiles = profile
    ? readdirSync(PROFILE_DIR)
        .filter((f) => !profilesBefore.has(f))
        .map((file) => ({ file, top: topFunctions(join(PROFILE_DIR, file), 25) }))
    : [];
  return { ...result, profiles };
}

export const INTAKE_TABLE_HEADER = [
  '| run | instances | connections | requests/s | p50 ms | p90 ms | p99 ms | max ms | non-202 | 202s per instance | service CPU per request ms | generator CPU cores | peak RSS MB |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
];

export function intakeRow(label: string, r: IntakeResult): string {
  const l = r.load;
  return `| ${label} | ${r.instances} | ${l.connections} | ${fmt(l.perSecond)} | ${fmt(l.p50Ms, 1)} | ${fmt(l.p90Ms, 1)} | ${fmt(l.p99Ms, 1)} | ${fmt(l.maxMs, 1)} | ${l.other} | ${l.okPerPort.join(' / ')} | ${fmt(r.cpuPerRequestMs, 2)} | ${fmt(l.generatorCores, 2)} | ${r.processes.map((p) => fmt(p.peakRssMb)).join(' / ')} |`;
}

async function main(): Promise<void> {
  const machineBefore = machineLine();
  const profile = process.argv.includes('--profile');
  const at = process.argv.indexOf('--instances');
  const instances = at > 0 && process.argv[at + 1] === '2' ? 2 : 1;
  const result = await runIntake({ instances, profile });
  console.log(machineBefore);
  console.log(
    `${result.load.connections} connections, ${result.seconds} s after a ${WARM_UP_SECONDS} s warm-up, one recipient scheduled a day ahead, APP_ROLE=api × ${instances}${profile ? ', with --cpu-prof' : ''}.\n`,
  );
  console.log(INTAKE_TABLE_HEADER.join('\n'));
  console.log(intakeRow(profile ? '--cpu-prof' : 'plain', result));
  console.log(
    `\nStored: ${result.stored.notifications} notifications, ${result.stored.messages} messages for ${result.accepted} 202s (warm-up included; ${result.unanswered} other answers).`,
  );
  for (const { file, top } of result.profiles) {
    console.log(`\nCPU profile ${file}, most self time:\n`);
    console.log(top.join('\n'));
  }
  failOnProblems(result.problems);
}

runScript(module, main);
