/*
 * Intake benchmark: `POST /v1/notifications` per second through one service instance, and where
 * its CPU goes.
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/intake.ts [--profile]
 *
 * One instance with APP_ROLE=api in its own process (bench/support.ts); this process is the load
 * generator: INTAKE_BENCH_CONNECTIONS keep-alive connections (node:http Agent), each a closed
 * loop sending its next request as soon as the previous answer arrives. Every request is one
 * recipient, scheduled a day ahead (so no send competes), with a distinct number. A 2 s warm-up
 * is not reported. Afterwards SQL checks that every request answered 202 stored exactly one
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
  fmt,
  machineLine,
  percentile,
  postOnce,
  startApiService,
} from './support';

const SECONDS = Number(process.env.INTAKE_BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.INTAKE_BENCH_CONNECTIONS ?? 50);
const PROFILE = process.argv.includes('--profile');
const PROFILE_DIR = join(__dirname, 'profiles');

let sequence = 0;
const tomorrow = new Date(Date.now() + 24 * 3600 * 1000).toISOString();

function nextBody(): string {
  sequence += 1;
  const number = `+1415${String(2_000_000 + sequence).padStart(7, '0')}`;
  return JSON.stringify({
    template: 'bench_intake',
    to: number,
    variables: { code: String(sequence) },
    scheduled_at: tomorrow,
  });
}

async function run(
  port: number,
  seconds: number,
): Promise<{ accepted: number; other: number; latencies: number[]; elapsedS: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const latencies: number[] = [];
  let accepted = 0;
  let other = 0;
  const started = performance.now();
  const stopAt = started + seconds * 1000;
  const loop = async (): Promise<void> => {
    while (performance.now() < stopAt) {
      const t0 = performance.now();
      const status = await postOnce(agent, port, '/v1/notifications', nextBody(), {
        authorization: `Bearer ${ADMIN_KEY}`,
      }).then(
        (res) => res.status,
        () => 0,
      );
      latencies.push(performance.now() - t0);
      if (status === 202) accepted += 1;
      else other += 1;
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, loop));
  agent.destroy();
  return { accepted, other, latencies, elapsedS: (performance.now() - started) / 1000 };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/** Self time per function from a .cpuprofile: sample counts times the mean sampling interval. */
function topFunctions(path: string, count: number): string[] {
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

async function main(): Promise<void> {
  const machineBefore = machineLine();
  const stack = benchStack('intake');
  let service: BenchProcess | null = null;
  if (PROFILE) mkdirSync(PROFILE_DIR, { recursive: true });
  const profilesBefore = PROFILE ? new Set(readdirSync(PROFILE_DIR)) : new Set<string>();
  try {
    service = await startApiService(stack, {
      execArgv: PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [],
    });
    const port = Number(new URL(service.url).port);
    const template = await api(service.url, 'POST', '/v1/templates', {
      key: 'bench_intake',
      body: 'Your code is {{code}}',
    });
    if (template.status !== 201) throw new Error(`template: ${template.status}`);
    await run(port, 2);
    const before = await service.stats();
    const result = await run(port, SECONDS);
    const stats = await service.stats();
    const cpuPerRequestMs = (stats.cpuMs - before.cpuMs) / (result.accepted + result.other);

    const [stored] = await stack.sql<{ notifications: number; messages: number }>(
      `SELECT (SELECT count(*)::int FROM notifications) AS notifications,
              (SELECT count(*)::int FROM messages) AS messages`,
    );
    console.log(machineBefore);
    console.log(
      `${CONNECTIONS} connections, ${SECONDS} s after a 2 s warm-up, one recipient scheduled a day ahead, APP_ROLE=api${PROFILE ? ', with --cpu-prof' : ''}.\n`,
    );
    console.log(
      '| requests/s | p50 ms | p99 ms | max ms | non-202 | service CPU per request ms | peak RSS MB |',
    );
    console.log('|---:|---:|---:|---:|---:|---:|---:|');
    console.log(
      `| ${fmt(result.accepted / result.elapsedS)} | ${fmt(percentile(result.latencies, 50), 1)} | ${fmt(percentile(result.latencies, 99), 1)} | ${fmt(Math.max(...result.latencies), 1)} | ${result.other} | ${fmt(cpuPerRequestMs, 2)} | ${fmt(stats.peakRssMb)} |`,
    );
    console.log(
      `\nStored: ${stored.notifications} notifications, ${stored.messages} messages (one each per 202, warm-up included).`,
    );
  } finally {
    await service?.close();
    await stack.cleanup();
  }
  if (PROFILE) {
    const written = readdirSync(PROFILE_DIR).filter((f) => !profilesBefore.has(f));
    for (const file of written) {
      console.log(`\nCPU profile ${file}, most self time:\n`);
      console.log(topFunctions(join(PROFILE_DIR, file), 25).join('\n'));
    }
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
