/*
 * The intake's ceiling on this machine: the intake generator (bench/intake.ts, same connections,
 * same durations) against a bare NestJS + Fastify app with one route answering {"ok":true}
 * (bench/ceiling-app.ts) in a process of its own. Intake ÷ ceiling, measured in the same run, is
 * the share of what the framework could serve on this box that the service keeps.
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/ceiling.ts
 *
 * Env: INTAKE_BENCH_SECONDS (default 10), INTAKE_BENCH_CONNECTIONS (default 50).
 */
import { join } from 'node:path';
import { forkModule, freePort } from '../tools/stack';
import {
  INTAKE_CONNECTIONS,
  INTAKE_SECONDS,
  intakeLoad,
  type LoadFigures,
  WARM_UP_SECONDS,
} from './intake';
import {
  fmt,
  machineLine,
  peakOf,
  type ProcessPeak,
  type Progress,
  runScript,
  stderrProgress,
} from './support';

export interface CeilingResult {
  seconds: number;
  load: LoadFigures;
  cpuPerRequestMs: number;
  processes: ProcessPeak[];
}

export async function runCeiling(
  options: { seconds?: number; connections?: number; progress?: Progress } = {},
): Promise<CeilingResult> {
  const {
    seconds = INTAKE_SECONDS,
    connections = INTAKE_CONNECTIONS,
    progress = stderrProgress,
  } = options;
  progress('starting the bare Nest-on-Fastify app');
  const app = await forkModule(
    join(__dirname, 'ceiling-app.ts'),
    { port: await freePort() },
    { measure: true },
  );
  try {
    const ports = [Number(new URL(app.url).port)];
    progress(`warm-up ${WARM_UP_SECONDS} s`);
    await intakeLoad({ ports, connections, seconds: WARM_UP_SECONDS });
    const before = await app.stats();
    progress(`load: ${connections} connections for ${seconds} s`);
    const load = await intakeLoad({ ports, connections, seconds });
    const after = await app.stats();
    return {
      seconds,
      load,
      cpuPerRequestMs: (after.cpuMs - before.cpuMs) / (load.ok + load.other),
      processes: [peakOf('ceiling / bare Nest-on-Fastify', 'reference', after)],
    };
  } finally {
    await app.close();
  }
}

export function ceilingLines(r: CeilingResult): string[] {
  const l = r.load;
  return [
    '| connections | requests/s | p50 ms | p90 ms | p99 ms | max ms | non-202 | CPU per request ms | generator CPU cores | peak RSS MB |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| ${l.connections} | ${fmt(l.perSecond)} | ${fmt(l.p50Ms, 1)} | ${fmt(l.p90Ms, 1)} | ${fmt(l.p99Ms, 1)} | ${fmt(l.maxMs, 1)} | ${l.other} | ${fmt(r.cpuPerRequestMs, 3)} | ${fmt(l.generatorCores, 2)} | ${fmt(r.processes[0]?.peakRssMb ?? Number.NaN)} |`,
  ];
}

async function main(): Promise<void> {
  const machineBefore = machineLine();
  const r = await runCeiling();
  const l = r.load;
  console.log(machineBefore);
  console.log(
    `Bare NestJS + Fastify, one route, ${l.connections} connections, ${r.seconds} s after a ${WARM_UP_SECONDS} s warm-up.\n`,
  );
  console.log(ceilingLines(r).join('\n'));
}

runScript(module, main);
