import { LOCKS, runExclusive } from '../../apps/notification-service/src/common/exclusive';
import { cloneTemplateDatabase, type ScratchDatabase } from './scratch-database';

/** The periodic jobs' guard: one instance at a time runs a job across the fleet, the rest skip. */
describe(runExclusive.name, () => {
  let scratch: ScratchDatabase;

  beforeAll(async () => {
    scratch = await cloneTemplateDatabase('excl');
  });
  afterAll(() => scratch?.drop());

  /** Starts `work` under the lock and resolves once it runs; `finish` lets it end. */
  async function holding(lockId: number) {
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const result = runExclusive(scratch.db, lockId, async () => {
      started();
      await done;
      return 'first';
    });
    await running;
    return { finish, result };
  }

  it('skips a job at once while another instance runs it, and runs it again once that one is done', async () => {
    const first = await holding(LOCKS.sweeper);
    let ran = false;
    const skipped = await runExclusive(scratch.db, LOCKS.sweeper, () => {
      ran = true;
      return Promise.resolve('second');
    });
    expect(skipped).toBeUndefined();
    expect(ran).toBe(false);

    first.finish();
    expect(await first.result).toBe('first');
    expect(await runExclusive(scratch.db, LOCKS.sweeper, () => Promise.resolve('third'))).toBe(
      'third',
    );
  });

  it('runs different jobs side by side', async () => {
    const sweeper = await holding(LOCKS.sweeper);
    expect(await runExclusive(scratch.db, LOCKS.reconcile, () => Promise.resolve('other'))).toBe(
      'other',
    );
    sweeper.finish();
    await sweeper.result;
  });

  it('lets go of the lock when the job fails', async () => {
    await expect(
      runExclusive(scratch.db, LOCKS.claims, () => Promise.reject(new Error('job failed'))),
    ).rejects.toThrow('job failed');
    expect(await runExclusive(scratch.db, LOCKS.claims, () => Promise.resolve('next'))).toBe(
      'next',
    );
  });

  it('never runs a job on two instances at once, however many try', async () => {
    let running = 0;
    let most = 0;
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        runExclusive(scratch.db, LOCKS.idempotency, async () => {
          running++;
          most = Math.max(most, running);
          // Long enough for the others to try while this one holds the lock.
          await scratch.db.query(`SELECT pg_sleep(0.2)`);
          running--;
          return true;
        }),
      ),
    );
    expect(most).toBe(1);
    expect(results.filter((r) => r === true).length).toBeGreaterThanOrEqual(1);
  });
});
