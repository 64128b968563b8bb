import { type CrashMode, crashMidBacklog } from './support/crash-scenario';

/**
 * A sending instance killed with SIGKILL in the middle of a backlog of 200: nothing is lost,
 * every message is delivered, a message is sent twice only if its call was in flight at the kill,
 * and what the dead process held is handed to the provider again within 10 s of the kill
 * (its lease lapses after WORKER_LEASE_TTL_MS, not after SEND_CLAIM_TIMEOUT_MS's two minutes).
 * Run alone (the timing project): the 10 s is a promise to callers, measured on a quiet box.
 */
describe('Crash recovery (e2e)', () => {
  it.each<[CrashMode, string]>([
    ['restart-all', 'one APP_ROLE=all instance, killed and restarted'],
    ['worker-of-two', 'one of two workers, killed and not restarted'],
  ])(
    'kill -9 mid-backlog of %s (%s): 0 lost, no extra duplicates, stranded sent within 10 s',
    async (mode) => {
      const outcome = await crashMidBacklog(mode);
      expect(outcome).toMatchObject({ total: 200, delivered: 200, lost: 0 });
      expect(outcome.inFlightAtKill).toBeGreaterThan(0);
      expect(outcome.duplicates).toBeLessThanOrEqual(outcome.inFlightAtKill);
      expect(outcome.lastStrandedSentMs).toBeLessThan(10_000);
    },
  );
});
