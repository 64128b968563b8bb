export interface GroupCommitOptions<T, R> {
  /** Writes `items` in one transaction; answers one result per item, in order. */
  commit(items: readonly T[]): Promise<R[]>;
  /** Batches being committed at once. */
  concurrency: number;
  /** A batch's total weight at most (one item alone may exceed it). */
  maxWeight: number;
  weight?(item: T): number;
  /**
   * Whether `error` may belong to one item only (bad data, a constraint): the batch's items are
   * then committed again one by one, so that only the item at fault fails.
   */
  isItemError?(error: unknown): boolean;
  /** Told the size of every batch committed. */
  onBatch?(items: number): void;
}

interface Pending<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: items submitted together share one transaction instead of one each, and every
 * caller is still answered only after its own item is committed. Idle, an item is written at
 * once; busy, the items that arrive while earlier batches commit form the next batch, so the
 * batch grows with the load and no timer adds latency.
 */
export class GroupCommit<T, R> {
  private queue: Pending<T, R>[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(private readonly options: GroupCommitOptions<T, R>) {}

  /** Resolves with the item's result once it is committed; rejects if it is not. */
  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.options.concurrency || !this.queue.length) return;
    this.scheduled = true;
    // After the current I/O phase: everything parsed in it joins this batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    const batch = this.take();
    if (!batch.length) return;
    this.inFlight++;
    this.options.onBatch?.(batch.length);
    try {
      const results = await this.options.commit(batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(results[i]));
    } catch (error) {
      if (batch.length > 1 && this.options.isItemError?.(error)) {
        for (const p of batch) {
          await this.options.commit([p.item]).then(([result]) => p.resolve(result), p.reject);
        }
      } else {
        for (const p of batch) p.reject(error);
      }
    } finally {
      this.inFlight--;
      this.schedule();
    }
  }

  private take(): Pending<T, R>[] {
    const weight = this.options.weight ?? (() => 1);
    let total = 0;
    let count = 0;
    while (count < this.queue.length) {
      const w = weight(this.queue[count].item);
      if (count > 0 && total + w > this.options.maxWeight) break;
      total += w;
      count++;
    }
    return this.queue.splice(0, count);
  }
}

/** PostgreSQL's data exceptions (22) and constraint violations (23) belong to rows. */
export function isRowError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

/**
 * A deadlock (40P01) or serialization failure (40001): two batches locked the same rows in
 * different orders. Items committed one by one can't deadlock (each locks a single row), so the
 * batch goes again item by item.
 */
export function isLockConflict(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === '40P01' || code === '40001';
}
