/*
 * What abusive clients cost a well-behaved one (issue: no caller can take the service from the
 * others):
 * - a valid caller's latency (POST /v1/notifications, one recipient, one request at a time)
 *   alone, then while four clients from four addresses send 1 MB bodies with a wrong key: as fast
 *   as the service answers them (on loopback, far more than a network link carries), then paced
 *   to a 1 Gbit/s link's worth;
 * - how many idle connections one address can hold, and for how long.
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/abuse.ts
 *
 * One APP_ROLE=api instance in its own process, compiled, with the image's Node flags and the
 * default HTTP limits. Env: ABUSE_BENCH_SECONDS (per phase, default 10). --profile runs the
 * service with --cpu-prof and prints the functions with the most self time (bench/profiles/).
 */
import { fork } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  ADMIN_KEY,
  api,
  type BenchProcess,
  benchStack,
  cpuBetween,
  cpuSnapshot,
  fmt,
  percentile,
  type Progress,
  postOnce,
  runScript,
  startApiService,
  stderrProgress,
} from './support';
import { topFunctions } from './intake';

const PROFILE_DIR = join(__dirname, 'profiles');

const SECONDS = Number(process.env.ABUSE_BENCH_SECONDS ?? 10);
const ATTACKERS = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
const ATTACK_BODY = Buffer.alloc(1024 * 1024 - 1024, 'a');
/** What four clients elsewhere can send through a 1 Gbit/s link, about 119 MB/s. */
const LINK_MBPS = 119;

export interface LatencyFigures {
  requests: number;
  p50Ms: number;
  p99Ms: number;
  /** Cores the service process used meanwhile, and the whole box (of 2). */
  serviceCores: number;
  boxCores: number;
  /** The service's event-loop delay meanwhile (a 10 ms timer's lateness). */
  loopDelayP99Ms: number;
}

export interface AttackPhase {
  /** The attackers' pace in all: null as fast as answered, else MB/s (a network link's worth). */
  paceMBps: number | null;
  caller: LatencyFigures;
  /** Bad-key requests the four attackers got answered, by status ('closed': cut while writing). */
  answers: Record<string, number>;
  /** Megabytes the attackers offered (a 1 MB body each, announced in the headers). */
  offeredMB: number;
}

export interface AbuseResult {
  idle: LatencyFigures;
  attacks: AttackPhase[];
  /** Idle connections one address held before the next was refused. */
  idleConnectionsHeld: number;
  /** How long the service let each sit idle before closing it (408), from its connection. */
  idleHeldMs: { min: number; max: number };
  problems: string[];
}

/** A valid caller for `seconds`, with what the service and the box spent meanwhile. */
async function measuredCaller(
  service: BenchProcess,
  database: string,
  seconds: number,
): Promise<LatencyFigures> {
  const port = Number(new URL(service.url).port);
  const before = await service.stats();
  const box = cpuSnapshot(database);
  const started = Date.now();
  const latencies = await validCaller(port, seconds);
  const after = await service.stats();
  const elapsedMs = Date.now() - started;
  return {
    requests: latencies.length,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    serviceCores: (after.cpuMs - before.cpuMs) / elapsedMs,
    boxCores: cpuBetween(box, cpuSnapshot(database)).boxCores,
    loopDelayP99Ms: after.loopDelay.p99,
  };
}

/** A valid caller: one request after another for `seconds`, latencies in ms. */
async function validCaller(port: number, seconds: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const body = JSON.stringify({
    template: 'bench_abuse',
    to: '+14155550100',
    variables: { code: '1234' },
    scheduled_at: new Date(Date.now() + 86_400_000).toISOString(),
  });
  const latencies: number[] = [];
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) {
    const started = performance.now();
    const res = await postOnce(agent, port, '/v1/notifications', body, {
      authorization: `Bearer ${ADMIN_KEY}`,
    });
    if (res.status !== 202) throw new Error(`valid caller got ${res.status}: ${res.text}`);
    latencies.push(performance.now() - started);
  }
  agent.destroy();
  return latencies;
}

/**
 * One attacker: 1 MB bodies with a wrong key, one after another, until `stop`; at most
 * `bytesPerMs` on average when given (the share of a network link).
 */
async function attacker(
  port: number,
  localAddress: string,
  stop: () => boolean,
  answers: Record<string, number>,
  bytesPerMs: number | null,
): Promise<number> {
  let offered = 0;
  const startedAt = performance.now();
  while (!stop()) {
    if (bytesPerMs !== null) {
      const due = startedAt + offered / bytesPerMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    const status = await new Promise<string>((resolve) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          localAddress,
          method: 'POST',
          path: '/v1/notifications',
          agent: false,
          headers: {
            authorization: `Bearer nk_wrong_${Math.random().toString(36).slice(2)}`,
            'content-type': 'application/json',
            'content-length': ATTACK_BODY.length,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(String(res.statusCode)));
        },
      );
      // The service answers before the body is read and closes: writing on may then fail.
      req.on('error', () => resolve('closed'));
      req.end(ATTACK_BODY);
    });
    offered += ATTACK_BODY.length;
    answers[status] = (answers[status] ?? 0) + 1;
  }
  return offered;
}

/** Opens idle connections from one address until one is refused; resolves the count. */
async function idleConnections(port: number): Promise<{ held: number; heldMs: number[] }> {
  const sockets: { socket: Socket; closed: Promise<number> }[] = [];
  for (let i = 0; i < 10_000; i++) {
    const socket = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.6' });
    const openedAt = performance.now();
    const closed = new Promise<number>((resolve) =>
      socket.on('close', () => resolve(performance.now() - openedAt)),
    );
    socket.on('error', () => undefined);
    // Reading is what lets 'close' fire once the server has answered 408 and closed.
    socket.resume();
    const connected = await Promise.race([
      new Promise<boolean>((resolve) => socket.once('connect', () => resolve(true))),
      closed.then(() => false),
    ]);
    if (!connected) break;
    // A refused connection is closed at once, before it has sent anything.
    const refused = await Promise.race([
      closed.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 50)),
    ]);
    if (refused) break;
    sockets.push({ socket, closed });
  }
  const heldMs = await Promise.all(sockets.map((s) => s.closed));
  return { held: sockets.length, heldMs };
}

export async function runAbuse(
  options: { seconds?: number; progress?: Progress } = {},
): Promise<AbuseResult> {
  const { seconds = SECONDS, progress = stderrProgress } = options;
  const stack = benchStack('abuse');
  const profile = process.argv.includes('--profile');
  if (profile) mkdirSync(PROFILE_DIR, { recursive: true });
  const profilesBefore = profile ? new Set(readdirSync(PROFILE_DIR)) : new Set<string>();
  const service = await startApiService(stack, {
    execArgv: profile ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [],
  });
  const port = Number(new URL(service.url).port);
  const problems: string[] = [];
  try {
    const created = await api(service.url, 'POST', '/v1/templates', {
      key: 'bench_abuse',
      body: 'Your code is {{code}}',
    });
    if (created.status !== 201) throw new Error(`template: ${created.status}`);
    // Warm-up: JIT, pool connections, caches.
    await validCaller(port, 2);

    progress(`valid caller alone, ${seconds} s`);
    const idle = await measuredCaller(service, stack.databaseName, seconds);

    const attacks: AttackPhase[] = [];
    for (const paceMBps of [null, LINK_MBPS]) {
      const pace = paceMBps === null ? 'as fast as answered' : `${paceMBps} MB/s in all`;
      progress(
        `valid caller while ${ATTACKERS.length} clients send 1 MB bad-key bodies ${pace}, ${seconds} s`,
      );
      const phase = await attackPhase(service, stack.databaseName, seconds, paceMBps);
      attacks.push(phase);
      if (phase.caller.p50Ms > 2 * Math.max(idle.p50Ms, 1)) {
        problems.push(
          `p50 under attack (${pace}) ${fmt(phase.caller.p50Ms, 1)} ms is over twice the idle ${fmt(idle.p50Ms, 1)} ms`,
        );
      }
    }

    progress('idle connections from one address');
    const { held, heldMs } = await idleConnections(port);
    return {
      idle,
      attacks,
      idleConnectionsHeld: held,
      idleHeldMs: { min: Math.min(...heldMs), max: Math.max(...heldMs) },
      problems,
    };
  } finally {
    await service.close();
    await stack.cleanup();
    if (profile) {
      for (const file of readdirSync(PROFILE_DIR).filter((f) => !profilesBefore.has(f))) {
        progress(`profile ${file}:\n${topFunctions(join(PROFILE_DIR, file), 25).join('\n')}`);
      }
    }
  }
}

/**
 * The valid caller while the attackers run in a process of their own, so that their writes do not
 * slow the caller's event loop here and only the service's answer time is measured.
 */
async function attackPhase(
  service: BenchProcess,
  database: string,
  seconds: number,
  paceMBps: number | null,
): Promise<AttackPhase> {
  const port = new URL(service.url).port;
  const attackers = fork(__filename, ['--attack', port, String(paceMBps ?? 0), ...ATTACKERS], {
    execArgv: ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve) => attackers.once('message', () => resolve()));
  const caller = await measuredCaller(service, database, seconds);
  const report = new Promise<{ answers: Record<string, number>; offered: number }>((resolve) =>
    attackers.once('message', (message) =>
      resolve(message as { answers: Record<string, number>; offered: number }),
    ),
  );
  attackers.send('stop');
  const { answers, offered } = await report;
  return { paceMBps, caller, answers, offeredMB: offered / 1024 / 1024 };
}

/** The attackers' process: attacks until told to stop, then reports what it was answered. */
async function attackUntilStopped(
  port: number,
  paceMBps: number,
  addresses: string[],
): Promise<void> {
  let stopping = false;
  const answers: Record<string, number> = {};
  process.once('message', () => (stopping = true));
  process.send?.('started');
  const bytesPerMs = paceMBps > 0 ? (paceMBps * 1024 * 1024) / 1000 / addresses.length : null;
  const offered = await Promise.all(
    addresses.map((address) => attacker(port, address, () => stopping, answers, bytesPerMs)),
  );
  process.send?.({ answers, offered: offered.reduce((a, b) => a + b, 0) });
  process.disconnect();
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--attack');
  if (at > 0) {
    const [port, pace, ...addresses] = process.argv.slice(at + 1);
    await attackUntilStopped(Number(port), Number(pace), addresses);
    return;
  }
  const result = await runAbuse();
  process.stdout.write(`${JSON.stringify(result, null, 1)}\n`);
}

runScript(module, main);
