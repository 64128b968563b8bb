import { performance } from 'node:perf_hooks';
import { type Harness, startHarness, waitFor } from './support/harness';

/** Failed authentication is limited per client address, and two instances share the count. */
describe('Failed-authentication limit (e2e)', () => {
  const env = { AUTH_FAILURE_LIMIT: '5', AUTH_FAILURE_WINDOW_MS: '60000' };
  let first: Harness;
  let second: Harness;

  beforeAll(async () => {
    first = await startHarness({ env });
    second = await startHarness({ env, shareWith: first });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it('answers 429 with Retry-After after a burst, on every instance, valid key or not', async () => {
    const bad = (h: Harness, i: number) => h.api('GET', '/v1/templates', { key: `nk_wrong_${i}` });
    const answers = [
      await bad(first, 1),
      await bad(second, 2),
      await bad(first, 3),
      await bad(second, 4),
      await bad(first, 5),
    ];
    expect(answers.map((r) => r.status)).toEqual([401, 401, 401, 401, 401]);

    for (const h of [second, first]) {
      // The instance that saw the limit crossed tells the other through Redis, within moments.
      const startedAt = performance.now();
      const limited = await waitFor(
        async () => {
          const res = await bad(h, 6);
          return res.status === 429 ? res : null;
        },
        { timeoutMs: 5000, intervalMs: 10, what: 'the limit to reach every instance' },
      );
      expect(performance.now() - startedAt).toBeLessThan(1000);
      expect(limited.body).toMatchObject({
        success: false,
        error: { code: 'too_many_failed_authentications' },
      });
      const retryAfter = Number(limited.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    // A valid key from the same address waits too: otherwise 429 vs 200 would tell keys apart.
    expect((await first.api('GET', '/v1/templates')).status).toBe(429);
    // Routes without authentication are not affected.
    expect((await first.api('GET', '/health', { key: null })).status).toBe(200);
  });
});
