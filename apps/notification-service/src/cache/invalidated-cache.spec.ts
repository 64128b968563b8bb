import { InvalidatedCache, type InvalidationFeed } from './invalidated-cache';

const OPTIONS = { ttlMs: 60_000, deafTtlMs: 1000, maxEntries: 3 };

function setup(listening = true) {
  const feed: { listening: boolean; epoch: number } & InvalidationFeed = { listening, epoch: 0 };
  let now = 0;
  const cache = new InvalidatedCache<string>(feed, OPTIONS, () => now);
  const loads: string[] = [];
  const load =
    (key: string, value = `${key}@${now}`) =>
    () => {
      loads.push(key);
      return Promise.resolve(value);
    };
  return { feed, cache, loads, load, advance: (ms: number) => (now += ms) };
}

describe('InvalidatedCache', () => {
  it('answers from memory until the entry is invalidated, then loads again', async () => {
    const { cache, loads, load, advance } = setup();
    expect(await cache.get('a', load('a'))).toBe('a@0');
    advance(30_000);
    expect(await cache.get('a', load('a'))).toBe('a@0');
    cache.invalidate('a');
    expect(await cache.get('a', load('a'))).toBe('a@30000');
    expect(loads).toEqual(['a', 'a']);
  });

  it('forgets every entry under an invalidated prefix and only those', async () => {
    const { cache, loads, load } = setup();
    await cache.get('k1\nx', load('k1\nx'));
    await cache.get('k1\ny', load('k1\ny'));
    await cache.get('k10\nx', load('k10\nx'));
    cache.invalidate('k1\n');
    for (const key of ['k1\nx', 'k1\ny', 'k10\nx']) await cache.get(key, load(key));
    expect(loads).toEqual(['k1\nx', 'k1\ny', 'k10\nx', 'k1\nx', 'k1\ny']);
  });

  it('keeps an entry no longer than its lifetime', async () => {
    const { cache, loads, load, advance } = setup();
    await cache.get('a', load('a'));
    advance(60_000);
    await cache.get('a', load('a'));
    expect(loads).toEqual(['a', 'a']);
  });

  it('trusts nothing beyond the short lifetime while invalidations may be missed', async () => {
    const { feed, cache, loads, load, advance } = setup();
    await cache.get('old', load('old'));
    feed.listening = false;
    feed.epoch++;
    await cache.get('deaf', load('deaf'));
    advance(999);
    await cache.get('old', load('old'));
    await cache.get('deaf', load('deaf'));
    expect(loads).toEqual(['old', 'deaf']);
    advance(1);
    // Back to listening: what was loaded before or during the gap may have missed something.
    feed.listening = true;
    await cache.get('old', load('old'));
    await cache.get('deaf', load('deaf'));
    expect(loads).toEqual(['old', 'deaf', 'old', 'deaf']);
  });

  it('gives an entry whose load raced an invalidation only the short lifetime', async () => {
    const { cache, loads, advance } = setup();
    let finish: (value: string) => void = () => undefined;
    const slow = cache.get('a', () => {
      loads.push('a');
      return new Promise<string>((resolve) => (finish = resolve));
    });
    cache.invalidate('a');
    finish('read before the change');
    await slow;
    advance(1000);
    expect(await cache.get('a', () => Promise.resolve('after'))).toBe('after');
  });

  it('shares one load between concurrent misses of a key', async () => {
    const { cache, loads, load } = setup();
    const answers = await Promise.all([1, 2, 3].map(() => cache.get('a', load('a'))));
    expect(answers).toEqual(['a@0', 'a@0', 'a@0']);
    expect(loads).toEqual(['a']);
  });

  it('does not keep a failed load', async () => {
    const { cache, load } = setup();
    await expect(cache.get('a', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await cache.get('a', load('a'))).toBe('a@0');
  });

  it('holds at most maxEntries, dropping the oldest', async () => {
    const { cache, loads, load } = setup();
    for (const key of ['a', 'b', 'c', 'd']) await cache.get(key, load(key));
    expect(cache.size).toBe(3);
    await cache.get('d', load('d'));
    await cache.get('a', load('a'));
    expect(loads).toEqual(['a', 'b', 'c', 'd', 'a']);
  });
});
