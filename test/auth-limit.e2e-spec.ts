import { performance } from 'node:perf_hooks';
import { rawHttp } from '../tools/stack';
import { ADMIN_KEY, type Harness, startHarness, waitFor } from './support/harness';

/** A key of the service's shape that no one was given: the stale key of a forgotten deploy. */
const STALE_KEY = 'nk_staleAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'.slice(0, 35);

/**
 * Failed authentication is limited per client address and per key prefix, two instances share
 * the count, and only failures are limited: a valid key always works.
 */
describe('Failed-authentication limit (e2e)', () => {
  const env = { AUTH_FAILURE_LIMIT: '5', AUTH_FAILURE_WINDOW_MS: '60000' };
  let first: Harness;
  let second: Harness;

  /** A request from `address` (any 127.0.0.0/8 address reaches the service on 127.0.0.1). */
  const from = (h: Harness, address: string, key: string | null, path = '/v1/templates') =>
    rawHttp(`${h.url}${path}`, {
      localAddress: address,
      headers: key === null ? {} : { authorization: `Bearer ${key}` },
    });

  beforeAll(async () => {
    first = await startHarness({ env });
    second = await startHarness({ env, shareWith: first });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it('answers 429 to the bad keys of a bursting address on every instance, and 200 to a valid key from it', async () => {
    const address = '127.0.0.11';
    const bad = (h: Harness, i: number) => from(h, address, `wrong-${i}`);
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
      expect(JSON.parse(limited.text)).toMatchObject({
        success: false,
        error: { code: 'too_many_failed_authentications' },
      });
      const retryAfter = Number(limited.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    // The attack this fixes: behind one shared address, a caller with a stale key used to lock
    // out every other caller, ops included. A valid key is never refused.
    for (const h of [first, second]) {
      expect((await from(h, address, ADMIN_KEY)).status).toBe(200);
    }
    // Another address is not affected, nor are routes without authentication.
    expect((await from(first, '127.0.0.12', 'wrong-7')).status).toBe(401);
    expect((await from(first, address, null, '/health')).status).toBe(200);
  });

  it('blocks a stale key tried from many addresses by its prefix, not the other keys of those addresses', async () => {
    const tries = await Promise.all(
      [21, 22, 23, 24, 25].map((n) => from(first, `127.0.0.${n}`, STALE_KEY)),
    );
    expect(tries.map((r) => r.status)).toEqual([401, 401, 401, 401, 401]);
    const sixth = await waitFor(
      async () => {
        const res = await from(second, '127.0.0.26', STALE_KEY);
        return res.status === 429 ? res : null;
      },
      { timeoutMs: 5000, intervalMs: 10, what: 'the key prefix block to reach every instance' },
    );
    expect(JSON.parse(sixth.text).error.code).toBe('too_many_failed_authentications');
    // The same address with another wrong key is only one failure old there: 401, not 429.
    expect((await from(second, '127.0.0.26', 'wrong-other')).status).toBe(401);
    expect((await from(second, '127.0.0.26', ADMIN_KEY)).status).toBe(200);
  });

  it('lets an operator see the blocks and clear one on every instance', async () => {
    const address = '127.0.0.31';
    for (let i = 0; i < 5; i++) expect((await from(first, address, `x-${i}`)).status).toBe(401);
    await waitFor(async () => (await from(second, address, 'x-6')).status === 429, {
      timeoutMs: 5000,
      intervalMs: 10,
      what: 'the block',
    });

    const listed = await first.api('GET', '/v1/auth/blocks');
    expect(listed.status).toBe(200);
    const block = (listed.body as { kind: string; value: string; failures: number }[]).find(
      (entry) => entry.kind === 'address' && entry.value === address,
    );
    expect(block).toMatchObject({ failures: 5, blocked_until: expect.any(String) });
    // Team keys may not see or clear blocks.
    const team = await first.api('POST', '/v1/api-keys', {
      body: { name: 'reader', team: 'growth', scopes: ['reports:read'] },
    });
    expect((await first.api('GET', '/v1/auth/blocks', { key: team.body.key })).status).toBe(403);
    const clearing = `/v1/auth/blocks/address/${address}`;
    expect((await first.api('DELETE', clearing, { key: team.body.key })).status).toBe(403);

    expect((await second.api('DELETE', `/v1/auth/blocks/address/${address}`)).status).toBe(204);
    for (const h of [first, second]) {
      await waitFor(async () => (await from(h, address, 'x-7')).status === 401, {
        timeoutMs: 5000,
        intervalMs: 10,
        what: 'the cleared block to reach every instance',
      });
    }
    const again = await first.api('DELETE', `/v1/auth/blocks/address/${address}`);
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('auth_block_not_found');
    expect((await first.api('DELETE', '/v1/auth/blocks/nothing/1.2.3.4')).status).toBe(400);
  });
});

/** X-Forwarded-For is believed only as far as the operator says, from the right. */
describe.each([
  ['a hop count', '1'],
  ['the proxy addresses', '127.0.0.0/8'],
])('TRUST_PROXY as %s (e2e)', (_what, trustProxy) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      env: { AUTH_FAILURE_LIMIT: '3', AUTH_FAILURE_WINDOW_MS: '60000', TRUST_PROXY: trustProxy },
    });
  });
  afterAll(() => h?.close());

  it('counts a client by the address its proxy saw, whatever it writes at the left', async () => {
    // The client writes an invented address each time; the proxy appends the one it saw.
    const through = (spoofed: string) =>
      h.api('GET', '/v1/templates', {
        key: 'wrong',
        headers: { 'x-forwarded-for': `${spoofed}, 203.0.113.5` },
      });
    const statuses: number[] = [];
    for (let i = 1; i <= 4; i++) statuses.push((await through(`198.51.100.${i}`)).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    const blocks = (await h.api('GET', '/v1/auth/blocks')).body as { value: string }[];
    expect(blocks.map((b) => b.value)).toContain('203.0.113.5');
    expect(blocks.map((b) => b.value)).not.toContain('198.51.100.1');
  });
});
