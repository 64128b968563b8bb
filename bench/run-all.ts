/*
 * The benchmark suite: every bench one after another (intake with its Nest-on-Fastify ceiling and
 * with two api instances, the 1,000-recipient request, webhooks, sending at both plans with 1 and
 * 2 processes at two provider latencies, send utilisation with the provider a network away, many recipients per provider request, teams' fair share of the send rate, scheduling; memory of every process throughout), a
 * progress line per phase on the terminal, then bench/results.json (the figures) and
 * bench/RESULTS.md (bench/report.ts). About 19–21 minutes on a 2-core box.
 *
 *   npm run bench                              # everything
 *   npm run bench -- --only intake,webhooks    # a subset; the others show as "not run"
 *   npm run bench -- --only recipient-protection --merge   # re-run some, keep the others' figures
 *   npm run bench -- --report-only             # RESULTS.md again from results.json and notes
 *
 * Exits non-zero when a bench failed or one of its correctness checks (lost or duplicate rows)
 * did; RESULTS.md is written either way, saying which.
 *
 * Env (suite durations; the scripts run alone keep their own defaults): INTAKE_BENCH_SECONDS (10),
 * INTAKE_BENCH_CONNECTIONS (50), LARGE_REQUEST_COUNT (20), WEBHOOK_BENCH_SECONDS (10),
 * WEBHOOK_BENCH_MESSAGES (100000), PIPELINE_BENCH_SECONDS (20), BENCH_FAST_LATENCY_MS (2),
 * SCHEDULE_BENCH_COUNT (50), PROTECTION_BENCH_SECONDS (8), PROTECTION_BENCH_ROUNDS (3),
 * UTILISATION_BENCH_SECONDS (15), BATCHING_LATENCY_MS (200), BATCHING_POSTERS (8),
 * BATCHING_BASELINE_COUNT (200), FAIR_SHARE_A_STANDARD (1000), FAIR_SHARE_A_ENTERPRISE (3000), FAIR_SHARE_B (50),
 * BENCH_PG_URL, BENCH_REDIS_URL.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { runBatching } from './batching';
import { runCeiling } from './ceiling';
import { runFailover } from './failover';
import { runFairShare } from './fair-share';
import { runIntake } from './intake';
import { runLargeRequest } from './large-request';
import { runPipeline } from './pipeline';
import { runRecipientProtection } from './recipient-protection';
import {
  renderResults,
  STEP_ORDER,
  STEP_TITLES,
  type StepId,
  type StepRecord,
  type SuiteResults,
  type SuiteRun,
  type SuiteSettings,
  summaryLine,
} from './report';
import { runSchedule } from './schedule';
import { runUtilisation } from './utilisation';
import { machine, type Progress, runScript } from './support';
import { runWebhooks } from './webhooks';

const RESULTS_MD = join(__dirname, 'RESULTS.md');
const RESULTS_JSON = join(__dirname, 'results.json');

const number = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);

const SETTINGS: SuiteSettings = {
  intakeSeconds: number('INTAKE_BENCH_SECONDS', 10),
  connections: number('INTAKE_BENCH_CONNECTIONS', 50),
  largeCount: number('LARGE_REQUEST_COUNT', 20),
  largeWarmUp: 3,
  webhookSeconds: number('WEBHOOK_BENCH_SECONDS', 10),
  // Enough for 5,000/s through both first-delivery phases without running out.
  webhookMessages: number('WEBHOOK_BENCH_MESSAGES', 100_000),
  pipelineSeconds: number('PIPELINE_BENCH_SECONDS', 20),
  slowLatencyMs: 200,
  fastLatencyMs: number('BENCH_FAST_LATENCY_MS', 2),
  scheduleCount: number('SCHEDULE_BENCH_COUNT', 50),
};

type Runners = { [K in StepId]: (progress: Progress) => Promise<SuiteResults[K]> };

const RUNNERS: Runners = {
  ceiling: (progress) =>
    runCeiling({ seconds: SETTINGS.intakeSeconds, connections: SETTINGS.connections, progress }),
  intake: (progress) =>
    runIntake({
      instances: 1,
      seconds: SETTINGS.intakeSeconds,
      connections: SETTINGS.connections,
      progress,
    }),
  'intake-x2': (progress) =>
    runIntake({
      instances: 2,
      seconds: SETTINGS.intakeSeconds,
      connections: SETTINGS.connections,
      progress,
    }),
  'recipient-protection': (progress) => runRecipientProtection({ progress }),
  'large-request': (progress) =>
    runLargeRequest({ count: SETTINGS.largeCount, warmUp: SETTINGS.largeWarmUp, progress }),
  webhooks: (progress) =>
    runWebhooks({
      seconds: SETTINGS.webhookSeconds,
      messages: SETTINGS.webhookMessages,
      progress,
    }),
  'pipeline-fast': (progress) =>
    runPipeline({
      seconds: SETTINGS.pipelineSeconds,
      latencyMs: SETTINGS.fastLatencyMs,
      serviceEnv: {},
      progress,
    }),
  'pipeline-slow': (progress) =>
    runPipeline({
      seconds: SETTINGS.pipelineSeconds,
      latencyMs: SETTINGS.slowLatencyMs,
      serviceEnv: {},
      progress,
    }),
  utilisation: (progress) => runUtilisation({ progress }),
  batching: (progress) => runBatching({ progress }),
  'fair-share': (progress) => runFairShare({ progress }),
  failover: (progress) => runFailover({ progress }),
  schedule: (progress) => runSchedule({ count: SETTINGS.scheduleCount, progress }),
};

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 60)).padStart(2)}:${String(s % 60).padStart(2, '0')}`;
}

async function runStep<K extends StepId>(
  id: K,
  label: string,
  suiteStart: number,
): Promise<StepRecord<SuiteResults[K]>> {
  const started = Date.now();
  const say = (text: string): void => {
    const elapsed = clock(Date.now() - suiteStart);
    process.stdout.write(`[${elapsed}] ${label} ${STEP_TITLES[id]} › ${text}\n`);
  };
  const record: StepRecord<SuiteResults[K]> = {
    startedAt: new Date(started).toISOString(),
    durationS: 0,
    loadBefore: loadavg()[0],
  };
  say(`start (load avg ${record.loadBefore.toFixed(2)})`);
  try {
    record.result = await RUNNERS[id](say);
    const problems = (record.result as { problems?: string[] }).problems ?? [];
    record.durationS = (Date.now() - started) / 1000;
    say(`done in ${record.durationS.toFixed(0)} s: ${summaryLine(id, record.result)}`);
    for (const problem of problems) say(`CHECK FAILED: ${problem}`);
  } catch (error) {
    record.durationS = (Date.now() - started) / 1000;
    record.error = error instanceof Error ? (error.stack ?? error.message) : String(error);
    say(`FAILED after ${record.durationS.toFixed(0)} s: ${record.error.split('\n')[0]}`);
  }
  return record;
}

function failed(run: SuiteRun): boolean {
  return Object.values(run.steps).some(
    (record) =>
      record.error !== undefined ||
      ((record.result as { problems?: string[] } | undefined)?.problems ?? []).length > 0,
  );
}

function readPreviousRun(): SuiteRun {
  return JSON.parse(readFileSync(RESULTS_JSON, 'utf8')) as SuiteRun;
}

/** The last run with `chosen` replaced by this run's figures, each named as merged in. */
function mergedInto(previous: SuiteRun, run: SuiteRun, chosen: StepId[]): SuiteRun {
  const steps = { ...previous.steps } as Record<StepId, StepRecord<unknown>>;
  for (const id of chosen) {
    const record = run.steps[id];
    if (record) steps[id] = record;
  }
  return {
    ...previous,
    steps: steps as SuiteRun['steps'],
    skipped: previous.skipped.filter((id) => !chosen.includes(id)),
    merged: [
      ...(previous.merged ?? []).filter((m) => !chosen.includes(m.step)),
      ...chosen.map((step) => ({ step, at: run.startedAt })),
    ],
  };
}

async function main(): Promise<void> {
  if (process.argv.includes('--report-only')) {
    const run = JSON.parse(readFileSync(RESULTS_JSON, 'utf8')) as SuiteRun;
    writeFileSync(RESULTS_MD, renderResults(run));
    process.stdout.write(`Wrote ${RESULTS_MD} from ${RESULTS_JSON} (run of ${run.startedAt}).\n`);
    return;
  }
  Logger.overrideLogger(false);
  const at = process.argv.indexOf('--only');
  const only = at > 0 ? (process.argv[at + 1] ?? '').split(',').filter(Boolean) : [];
  const unknown = only.filter((id) => !STEP_ORDER.includes(id as StepId));
  if (unknown.length) {
    throw new Error(`unknown bench ${unknown.join(', ')}; pick from ${STEP_ORDER.join(', ')}`);
  }
  const chosen = only.length ? STEP_ORDER.filter((id) => only.includes(id)) : STEP_ORDER;
  // --merge: the chosen benches replace theirs in the last run; the others keep their figures.
  const merge = only.length > 0 && process.argv.includes('--merge');
  const suiteStart = Date.now();
  const run: SuiteRun = {
    startedAt: new Date(suiteStart).toISOString(),
    finishedAt: '',
    durationS: 0,
    machine: await machine(),
    settings: SETTINGS,
    skipped: STEP_ORDER.filter((id) => !chosen.includes(id)),
    steps: {},
  };
  const m = run.machine;
  process.stdout.write(
    `${m.cpuModel}, nproc ${m.nproc}, ${m.memoryGiB.toFixed(1)} GiB, Node ${m.node}, PostgreSQL ${m.postgres}, Redis ${m.redis}\n`,
  );
  const steps = run.steps as Record<StepId, StepRecord<unknown>>;
  for (const [i, id] of chosen.entries()) {
    steps[id] = await runStep(id, `${i + 1}/${chosen.length}`, suiteStart);
  }
  run.finishedAt = new Date().toISOString();
  run.durationS = (Date.now() - suiteStart) / 1000;
  const written = merge ? mergedInto(readPreviousRun(), run, chosen) : run;
  writeFileSync(RESULTS_JSON, `${JSON.stringify(written, null, 1)}\n`);
  writeFileSync(RESULTS_MD, renderResults(written));
  process.stdout.write(
    `[${clock(Date.now() - suiteStart)}] wrote ${RESULTS_MD} and ${RESULTS_JSON}\n`,
  );
  if (failed(run)) {
    process.stderr.write('A bench failed or a correctness check did: see RESULTS.md.\n');
    process.exitCode = 1;
  }
}

runScript(module, main);
