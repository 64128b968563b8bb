import { GroupCommit, isLockConflict, isRowError } from './group-commit';

/** A commit whose transactions the test finishes by hand. */
function manualCommits<T>() {
  const calls: { items: T[]; finish: () => void; fail: (e: unknown) => void }[] = [];
  const commit = (items: readonly T[]) =>
    new Promise<string[]>((resolve, reject) => {
      calls.push({
        items: [...items],
        finish: () => resolve(items.map((i) => `done ${String(i)}`)),
        fail: reject,
      });
    });
  return { calls, commit };
}

const untilCalls = async (calls: unknown[], count: number) => {
  while (calls.length < count) await new Promise((r) => setImmediate(r));
};

describe('GroupCommit', () => {
  it('writes a lone item at once and answers it only after its commit', async () => {
    const { calls, commit } = manualCommits<number>();
    const batches = new GroupCommit({ commit, concurrency: 1, maxWeight: 100 });
    let answered = false;
    const result = batches.submit(1).then((r) => {
      answered = true;
      return r;
    });
    await untilCalls(calls, 1);
    expect(calls[0].items).toEqual([1]);
    await new Promise((r) => setImmediate(r));
    expect(answered).toBe(false);
    calls[0].finish();
    await expect(result).resolves.toBe('done 1');
  });

  it('gathers what arrives while a batch commits into the next one, within the concurrency', async () => {
    const { calls, commit } = manualCommits<number>();
    const sizes: number[] = [];
    const batches = new GroupCommit({
      commit,
      concurrency: 2,
      maxWeight: 100,
      onBatch: (n) => sizes.push(n),
    });
    const results = [batches.submit(1)];
    await untilCalls(calls, 1);
    results.push(batches.submit(2));
    await untilCalls(calls, 2);
    for (let i = 3; i <= 10; i++) results.push(batches.submit(i));
    await new Promise((r) => setImmediate(r));
    expect(calls).toHaveLength(2);
    calls[0].finish();
    await untilCalls(calls, 3);
    expect(calls[2].items).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    calls[1].finish();
    calls[2].finish();
    await expect(Promise.all(results)).resolves.toEqual(
      Array.from({ length: 10 }, (_, i) => `done ${i + 1}`),
    );
    expect(sizes).toEqual([1, 1, 8]);
  });

  it('keeps a batch within its weight, except an item heavier than the limit alone', async () => {
    const { calls, commit } = manualCommits<number>();
    const batches = new GroupCommit({ commit, concurrency: 1, maxWeight: 10, weight: (n) => n });
    const results = [4, 5, 3, 20, 1].map((n) => batches.submit(n));
    for (let expected = 1; expected <= 4; expected++) {
      await untilCalls(calls, expected);
      calls[expected - 1].finish();
    }
    await Promise.all(results);
    expect(calls.map((c) => c.items)).toEqual([[4, 5], [3], [20], [1]]);
  });

  it('fails only the item at fault when the error belongs to one item', async () => {
    const committed: number[][] = [];
    const batches = new GroupCommit<number, string>({
      commit: (items) => {
        committed.push([...items]);
        if (items.includes(13))
          return Promise.reject(Object.assign(new Error('bad'), { code: '23505' }));
        return Promise.resolve(items.map((i) => `ok ${i}`));
      },
      concurrency: 1,
      maxWeight: 100,
      isItemError: isRowError,
    });
    const results = await Promise.allSettled([12, 13, 14].map((n) => batches.submit(n)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(committed).toEqual([[12, 13, 14], [12], [13], [14]]);
  });

  it('fails every item of the batch when the database itself fails', async () => {
    const outage = Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
    const batches = new GroupCommit<number, string>({
      commit: () => Promise.reject(outage),
      concurrency: 1,
      maxWeight: 100,
      isItemError: isRowError,
    });
    const results = await Promise.allSettled([1, 2, 3].map((n) => batches.submit(n)));
    expect(results).toEqual(results.map(() => ({ status: 'rejected', reason: outage })));
  });

  it('tells errors of one item and lock conflicts from the database failing', () => {
    const withCode = (code: string) => Object.assign(new Error(code), { code });
    expect(['23505', '22P02'].map((c) => isRowError(withCode(c)))).toEqual([true, true]);
    expect(['40P01', '40001'].map((c) => isLockConflict(withCode(c)))).toEqual([true, true]);
    for (const code of ['08006', '57P01', 'ECONNREFUSED']) {
      expect([isRowError(withCode(code)), isLockConflict(withCode(code))]).toEqual([false, false]);
    }
  });
});
