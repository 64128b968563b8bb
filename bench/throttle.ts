/*
 * Throttle benchmark: how much of the provider's limit the shared limiter uses under a backlog,
 * and whether any sliding second ever holds more than the limit.
 *
 *   npx ts-node --transpile-only bench/throttle.ts
 *
 * Each limiter instance runs in its own child process with its own Redis connection, like separate
 * service instances; every instance runs WORKERS concurrent loops of acquire() + a simulated
 * provider call, which keeps a backlog the whole time. The call goes over a simulated network,
 * 10-30 ms each way, the two ways drawn independently, and the provider "counts" it when it
 * arrives (Date.now() in each child, comparable because all children share this host's clock):
 * those are the times checked against the limit. (A provider that could count a call at any
 * moment of its round trip breaks the round-trip credit's assumption, docs/guarantees.md; the
 * service would see it in X-RateLimit-Remaining, which this bench has no provider to send.)
 *
 * Env: REDIS_URL (default redis://127.0.0.1:6379), THROTTLE_BENCH_SECONDS (default 15).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import {
  RedisRateLimiter,
  maxInSlidingWindow,
  type ThrottleStats,
} from '../apps/notification-service/src/provider/throttle';
// Not the kit's index: this bench runs without tsconfig-paths, which the apps' modules need.
import { nextMessage } from '../tools/stack/ipc';
import { deleteRedisKeys } from '../tools/stack/redis';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECONDS = Number(process.env.THROTTLE_BENCH_SECONDS ?? 15);
const WORKERS = 10;
const WAY_MS: [number, number] = [10, 30];

interface ChildConfig {
  keyPrefix: string;
  limitPerSecond: number;
}
type ToChild = { type: 'start'; at: number; until: number };
type FromChild = { type: 'ready' } | { type: 'done'; grants: number[]; stats: ThrottleStats };

interface Row {
  limit: number;
  instances: number;
  tokens: number;
  rate: number;
  heldByLog: number;
  loadAvg: number;
  maxInSecond: number;
  tightestSpan: number;
}

async function runChild(): Promise<void> {
  const send = (message: FromChild): void => {
    process.send?.(message);
  };
  // Through argv: a message sent before the child has loaded would be lost.
  const config = JSON.parse(process.argv[process.argv.indexOf('--child') + 1]) as ChildConfig;
  const redis = new Redis(REDIS_URL);
  const limiter = new RedisRateLimiter(redis, config);
  await redis.ping();
  const start = await new Promise<{ at: number; until: number }>((resolve) => {
    process.once('message', (m: ToChild) => resolve(m));
    send({ type: 'ready' });
  });
  await delay(Math.max(0, start.at - Date.now()));

  const grants: number[] = [];
  const controller = new AbortController();
  const stop = setTimeout(() => controller.abort(), start.until - Date.now());
  const worker = async (): Promise<void> => {
    while (!controller.signal.aborted) {
      let permit;
      try {
        permit = await limiter.acquire('send', controller.signal);
      } catch {
        return;
      }
      // The provider counts the call when it arrives, which we never know: each way varies.
      const [min, max] = WAY_MS;
      await delay(min + Math.random() * (max - min));
      grants.push(Date.now());
      await delay(min + Math.random() * (max - min));
      await permit.answered();
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, worker));
  clearTimeout(stop);
  send({ type: 'done', grants, stats: limiter.stats() });
  await redis.quit();
  process.disconnect();
}

function startChild(config: ChildConfig): ChildProcess {
  return fork(__filename, ['--child', JSON.stringify(config)], {
    execArgv: ['-r', 'ts-node/register/transpile-only'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

async function scenario(limit: number, instances: number, runId: string): Promise<Row> {
  const keyPrefix = `bench:throttle:${runId}:${limit}x${instances}:`;
  const children = Array.from({ length: instances }, () =>
    startChild({ keyPrefix, limitPerSecond: limit }),
  );
  await Promise.all(children.map((c) => nextMessage<FromChild>(c, ['ready'], 60_000)));
  const done = children.map((c) => nextMessage<FromChild>(c, ['done'], SECONDS * 1000 + 60_000));
  const at = Date.now() + 300;
  for (const child of children) {
    child.send({ type: 'start', at, until: at + SECONDS * 1000 } satisfies ToChild);
  }
  const results = (await Promise.all(done)).flatMap((m) => (m.type === 'done' ? [m] : []));
  const grants = results.flatMap((m) => m.grants).sort((a, b) => a - b);
  const inRun = grants.filter((g) => g < at + SECONDS * 1000).length;

  // Shortest time covered by limit + 1 consecutive grants: above 1000 ms means no sliding second
  // held more than the limit, and how far above is the jitter margin that was left.
  let tightestSpan = Number.POSITIVE_INFINITY;
  for (let i = 0; i + limit < grants.length; i += 1) {
    tightestSpan = Math.min(tightestSpan, grants[i + limit] - grants[i]);
  }
  return {
    limit,
    instances,
    tokens: inRun,
    rate: inRun / SECONDS,
    heldByLog: results.reduce((sum, m) => sum + m.stats.heldByLog, 0),
    // Other work on the box competes for the CPU and shows up as timing jitter.
    loadAvg: loadavg()[0],
    maxInSecond: maxInSlidingWindow(grants, 1000),
    tightestSpan,
  };
}

async function main(): Promise<void> {
  const runId = `${process.pid}-${Date.now()}`;
  const rows: Row[] = [];
  try {
    for (const limit of [10, 50]) {
      for (const instances of [1, 2, 4]) {
        const row = await scenario(limit, instances, runId);
        rows.push(row);
        process.stderr.write(`done: ${limit}/s x ${instances}\n`);
      }
    }
  } finally {
    await deleteRedisKeys(REDIS_URL, `bench:throttle:${runId}:*`);
  }
  console.log(
    `Backlog for ${SECONDS} s per row, ${WORKERS} workers per instance, ${WAY_MS.join('-')} ms each way to the simulated provider, default safety factor, ${cpus().length} CPUs.\n`,
  );
  console.log(
    '| limit/s | instances | tokens | achieved/s | utilisation of limit | max in any sliding 1 s | tightest span of limit+1 arrivals (ms) | held by the log | load avg 1 min |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.limit} | ${r.instances} | ${r.tokens} | ${r.rate.toFixed(2)} | ${((100 * r.rate) / r.limit).toFixed(1)}% | ${r.maxInSecond} | ${r.tightestSpan.toFixed(0)} | ${r.heldByLog} | ${r.loadAvg.toFixed(1)} |`,
    );
  }
}

if (process.argv.includes('--child')) {
  runChild().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
