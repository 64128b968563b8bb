/*
 * Crash recovery: how long after `kill -9` of a sending instance mid-backlog the provider has
 * received again every message the dead process held (claimed, or job taken but not claimed).
 * Runs the scenario of test/crash-recovery.e2e-spec.ts (test/support/crash-scenario.ts) N times
 * per mode, on the e2e kit's throwaway stack, and prints min / median / max.
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/crash-recovery.ts [runs]
 *
 * Modes: restart-all (one APP_ROLE=all instance, killed and started again) and worker-of-two
 * (one of two APP_ROLE=worker instances killed, not restarted). Enterprise plan (50/s), 200
 * messages, provider latency 200 ms, default WORKER_LEASE_TTL_MS / WORKER_HEARTBEAT_MS.
 */
import { Logger } from '@nestjs/common';
import globalSetup from '../test/support/global-setup';
import globalTeardown from '../test/support/global-teardown';
import { type CrashMode, type CrashOutcome, crashMidBacklog } from '../test/support/crash-scenario';

const RUNS = Number(process.argv[2] ?? 10);
const MODES: CrashMode[] = ['restart-all', 'worker-of-two'];

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  return `min ${sorted[0]}  median ${median}  max ${sorted[sorted.length - 1]}`;
}

async function main(): Promise<void> {
  Logger.overrideLogger(false);
  await globalSetup();
  try {
    for (const mode of MODES) {
      const outcomes: CrashOutcome[] = [];
      for (let run = 1; run <= RUNS; run++) {
        const outcome = await crashMidBacklog(mode);
        outcomes.push(outcome);
        console.log(`${mode} run ${run}/${RUNS}: ${JSON.stringify(outcome)}`);
      }
      console.log(`\n${mode}, ${RUNS} runs`);
      console.log(
        `  kill → last stranded message at the provider (ms): ${summary(outcomes.map((o) => o.lastStrandedSentMs))}`,
      );
      console.log(`  stranded: ${summary(outcomes.map((o) => o.stranded))}`);
      console.log(
        `  claims in flight at the kill: ${summary(outcomes.map((o) => o.inFlightAtKill))}`,
      );
      console.log(`  duplicates: ${summary(outcomes.map((o) => o.duplicates))}`);
      console.log(`  lost: ${summary(outcomes.map((o) => o.lost))}\n`);
    }
  } finally {
    await globalTeardown();
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
