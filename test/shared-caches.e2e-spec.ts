import { performance } from 'node:perf_hooks';
import { REVOCATION_BOUND_MS } from '../apps/notification-service/src/auth/api-keys.service';
import { TEMPLATE_EDIT_BOUND_MS } from '../apps/notification-service/src/templates/templates.service';
import {
  type ApiResponse,
  createTemplate,
  type Harness,
  startHarness,
  waitFor,
} from './support/harness';

/**
 * Each instance keeps API keys and current template versions in memory; a change made through
 * one instance reaches the others through Redis at once. Two instances share one stack here.
 */
describe('Caches shared across instances (e2e)', () => {
  let first: Harness;
  let second: Harness;
  let teamKey: string;
  let keyId: string;

  /** Sends through `h` until `done` holds; fails unless it holds within `boundMs` of now. */
  async function within(
    boundMs: number,
    attempt: () => Promise<ApiResponse>,
    done: (res: ApiResponse) => boolean,
  ) {
    const started = performance.now();
    const res = await waitFor(
      async () => {
        const answer = await attempt();
        return done(answer) ? answer : null;
      },
      { timeoutMs: 5000, intervalMs: 20, what: 'the change to reach the second instance' },
    );
    expect(performance.now() - started).toBeLessThan(boundMs);
    return res;
  }

  const send = (h: Harness, template: string, key?: string) =>
    h.api('POST', '/v1/notifications', {
      key,
      body: { template, to: '+14155550100', variables: { n: '1' }, scheduled_at: tomorrow() },
    });

  beforeAll(async () => {
    first = await startHarness();
    second = await startHarness({ shareWith: first });
    const created = await first.api('POST', '/v1/api-keys', {
      body: { name: 'cache-svc', team: 'cachers', scopes: ['notifications:send'] },
    });
    expect(created.status).toBe(201);
    teamKey = created.body.key;
    keyId = created.body.id;
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it('refuses a key revoked on another instance within the bound', async () => {
    await createTemplate(first, 'cache_revoke', 'Code {{n}}');
    // The second instance has the key in memory now.
    expect((await send(second, 'cache_revoke', teamKey)).status).toBe(202);
    expect((await send(second, 'cache_revoke', teamKey)).status).toBe(202);

    expect((await first.api('DELETE', `/v1/api-keys/${keyId}`)).status).toBe(204);
    const refused = await within(
      REVOCATION_BOUND_MS,
      () => send(second, 'cache_revoke', teamKey),
      (res) => res.status === 401,
    );
    expect(refused.body).toMatchObject({ success: false, error: { code: 'invalid_api_key' } });
  });

  it('renders with a template edited on another instance within the bound', async () => {
    await createTemplate(first, 'cache_edit', 'Old {{n}}');
    const before = await send(second, 'cache_edit');
    expect(before.body).toMatchObject({ template_version: 1 });

    const edited = await first.api('PUT', '/v1/templates/cache_edit', {
      body: { body: 'New {{n}}' },
    });
    expect(edited.status).toBe(200);
    const after = await within(
      TEMPLATE_EDIT_BOUND_MS,
      () => send(second, 'cache_edit'),
      (res) => res.body.template_version === 2,
    );
    const id = after.body.id as string;
    const [message] = await first.sql<{ body: string }>(
      `SELECT body FROM messages WHERE notification_id = $1`,
      [id],
    );
    expect(message.body).toBe('New 1');
  });

  it('sends with a template created on another instance after a 404 for it', async () => {
    const missing = await send(second, 'cache_late');
    expect(missing.status).toBe(404);
    await createTemplate(first, 'cache_late', 'Late {{n}}');
    await within(
      TEMPLATE_EDIT_BOUND_MS,
      () => send(second, 'cache_late'),
      (res) => res.status === 202,
    );
  });

  it('answers 404 for a template archived on another instance', async () => {
    await createTemplate(first, 'cache_archive', 'Gone {{n}}');
    expect((await send(second, 'cache_archive')).status).toBe(202);
    expect((await first.api('DELETE', '/v1/templates/cache_archive')).status).toBe(204);
    const gone = await within(
      TEMPLATE_EDIT_BOUND_MS,
      () => send(second, 'cache_archive'),
      (res) => res.status === 404,
    );
    expect(gone.body).toMatchObject({ error: { code: 'template_not_found' } });
  });
});

function tomorrow(): string {
  return new Date(Date.now() + 86_400_000).toISOString();
}
