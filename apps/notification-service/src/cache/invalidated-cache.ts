/** How an InvalidatedCache learns that entries changed elsewhere. */
export interface InvalidationFeed {
  /** Whether invalidations are being heard right now. */
  readonly listening: boolean;
  /** Goes up each time listening stopped: entries loaded before may have missed an invalidation. */
  readonly epoch: number;
}

export interface InvalidatedCacheOptions {
  /** How long an entry is trusted while invalidations are heard. */
  ttlMs: number;
  /** How long an entry is trusted when they may have been missed (Redis down, reconnecting). */
  deafTtlMs: number;
  maxEntries: number;
}

/**
 * What every row cache of the service uses: a minute while invalidations are heard; 1 s when they
 * may not be, which bounds how long a revoked key or an edited template can still be used; and
 * at most 10,000 entries (lookups of rows that don't exist are cached too, so a flood of invented
 * keys costs neither queries nor unbounded memory).
 */
export const ROW_CACHE_DEFAULTS: InvalidatedCacheOptions = {
  ttlMs: 60_000,
  deafTtlMs: 1000,
  maxEntries: 10_000,
};

interface Entry<V> {
  value: V;
  loadedAt: number;
  /** The feed's epoch when the load started; -1 when an invalidation raced the load. */
  epoch: number;
}

/**
 * A local cache of database rows that other instances can invalidate (through the feed). Entries
 * stay `ttlMs` while every invalidation is heard; one loaded while deaf, or that raced an
 * invalidation, stays only `deafTtlMs`, which is what bounds staleness when Redis is away.
 * Concurrent misses for one key share a single load.
 */
export class InvalidatedCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly loading = new Map<string, Promise<V>>();
  /** Counts invalidations, so a load can tell whether one arrived while it ran. */
  private invalidations = 0;

  constructor(
    private readonly feed: InvalidationFeed,
    private readonly options: InvalidatedCacheOptions,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  async get(key: string, load: () => Promise<V>): Promise<V> {
    const entry = this.entries.get(key);
    if (entry && this.fresh(entry)) return entry.value;
    const pending = this.loading.get(key);
    if (pending) return pending;
    const started = { epoch: this.feed.listening ? this.feed.epoch : -1, at: this.invalidations };
    const loaded = load().then(
      (value) => {
        this.loading.delete(key);
        const raced = this.invalidations !== started.at;
        this.store(key, { value, loadedAt: this.now(), epoch: raced ? -1 : started.epoch });
        return value;
      },
      (error: unknown) => {
        this.loading.delete(key);
        throw error;
      },
    );
    this.loading.set(key, loaded);
    return loaded;
  }

  /** Forgets the entries whose key starts with `prefix` (all of them for ''). */
  invalidate(prefix: string): void {
    this.invalidations++;
    if (prefix === '') {
      this.entries.clear();
      return;
    }
    for (const key of this.entries.keys()) {
      if (key.startsWith(prefix)) this.entries.delete(key);
    }
  }

  private fresh(entry: Entry<V>): boolean {
    const age = this.now() - entry.loadedAt;
    if (age < this.options.deafTtlMs) return true;
    return age < this.options.ttlMs && this.feed.listening && entry.epoch === this.feed.epoch;
  }

  private store(key: string, entry: Entry<V>): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    // A Map iterates in insertion order: the first key is the oldest.
    if (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }
}

/** Row caches by topic, and the way to invalidate them on every instance. */
export interface RowCaches {
  cache<V>(topic: string, options?: InvalidatedCacheOptions): InvalidatedCache<V>;
  invalidate(topic: string, prefix: string): Promise<void>;
}

/** One cache per topic, all fed by one feed. */
export class CachesByTopic {
  private readonly caches = new Map<string, InvalidatedCache<unknown>>();

  constructor(private readonly feed: InvalidationFeed) {}

  /** The cache of `topic`; the same one for every caller. */
  cache<V>(
    topic: string,
    options: InvalidatedCacheOptions = ROW_CACHE_DEFAULTS,
  ): InvalidatedCache<V> {
    let cache = this.caches.get(topic);
    if (!cache) {
      cache = new InvalidatedCache<unknown>(this.feed, options);
      this.caches.set(topic, cache);
    }
    return cache as InvalidatedCache<V>;
  }

  /** Forgets `topic`'s entries starting with `prefix`, in this process. */
  invalidate(topic: string, prefix: string): void {
    this.caches.get(topic)?.invalidate(prefix);
  }
}

/**
 * Caches for a process that hears no other instance (a one-shot command, a unit test): every
 * entry lives `deafTtlMs` at most, and invalidations stay local.
 */
export function localRowCaches(): RowCaches {
  const caches = new CachesByTopic({ listening: false, epoch: 0 });
  return {
    cache: (topic, options) => caches.cache(topic, options),
    invalidate: (topic, prefix) => {
      caches.invalidate(topic, prefix);
      return Promise.resolve();
    },
  };
}
