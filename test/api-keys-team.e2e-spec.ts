import { type Harness, startHarness } from './support/harness';

/**
 * A team lead's key with keys:read lists its own team's keys (no secrets) and cannot make or
 * revoke one; a key without the scope is refused; an admin lists every team's.
 */
describe('API keys: a team lists its own (e2e)', () => {
  let h: Harness;

  async function createKey(name: string, team: string, scopes: string[]) {
    const res = await h.api('POST', '/v1/api-keys', { body: { name, team, scopes } });
    expect(res.status).toBe(201);
    return res.body as { id: string; key: string };
  }

  beforeAll(async () => {
    h = await startHarness();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('shows a keys:read key its own team only, without secrets, and nothing more', async () => {
    const lead = await createKey('checkout-lead', 'checkout', ['keys:read']);
    const service = await createKey('checkout-service', 'checkout', ['notifications:send']);
    const other = await createKey('marketing-service', 'marketing', ['notifications:send']);

    const listed = await h.api('GET', '/v1/api-keys', { key: lead.key });
    expect(listed.status).toBe(200);
    const rows = listed.body as Array<Record<string, unknown>>;
    expect(rows.map((k) => k.name)).toEqual(['checkout-lead', 'checkout-service']);
    expect(rows.every((k) => k.team === 'checkout' && !('key' in k))).toBe(true);
    expect(JSON.stringify(rows)).not.toContain(service.key);

    const all = await h.api('GET', '/v1/api-keys');
    expect((all.body as Array<{ id: string }>).map((k) => k.id)).toEqual(
      expect.arrayContaining([lead.id, service.id, other.id]),
    );

    const create = await h.api('POST', '/v1/api-keys', {
      key: lead.key,
      body: { name: 'mine', team: 'checkout', scopes: ['admin'] },
    });
    expect(create.status).toBe(403);
    expect(create.body.error.code).toBe('forbidden');
    const revoke = await h.api('DELETE', `/v1/api-keys/${service.id}`, { key: lead.key });
    expect(revoke.status).toBe(403);

    const refused = await h.api('GET', '/v1/api-keys', { key: service.key });
    expect(refused.status).toBe(403);
    expect(refused.body.error.details).toMatchObject({ required_scope: 'keys:read' });
  });
});
