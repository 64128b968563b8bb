/*
 * A caller written against the client types openapi-typescript generates from openapi.json
 * (`npm run openapi`): `npm test` type-checks it, so a document that types errors as `never` or
 * lacks the list filters fails the build; running it checks the types against real answers.
 */
import type { components, operations } from './openapi-types';
import { createTemplate, type Harness, startHarness } from '../support/harness';

type SendBody = operations['sendNotification']['requestBody']['content']['application/json'];
type Accepted = operations['sendNotification']['responses'][202]['content']['application/json'];
type ListFilters = NonNullable<operations['listNotifications']['parameters']['query']>;
type Page = operations['listNotifications']['responses'][200]['content']['application/json'];
type SendError = operations['sendNotification']['responses'][400]['content']['application/json'];
type ErrorEnvelope = components['schemas']['ErrorEnvelope'];

/** The smallest typed client: one function per operation used, typed by the generated file. */
function client(baseUrl: string, key: string) {
  const call = async <T>(method: string, path: string, body?: unknown) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  return {
    sendNotification: (body: SendBody) =>
      call<Accepted | SendError>('POST', '/v1/notifications', body),
    listNotifications: (filters: ListFilters) => {
      const query = new URLSearchParams(
        Object.entries(filters).filter((e): e is [string, string] => typeof e[1] === 'string'),
      );
      return call<Page | ErrorEnvelope>('GET', `/v1/notifications?${query.toString()}`);
    },
  };
}

function isError(body: unknown): body is ErrorEnvelope {
  return typeof body === 'object' && body !== null && (body as ErrorEnvelope).success === false;
}

describe('A client typed from the OpenAPI document (e2e)', () => {
  let h: Harness;
  let api: ReturnType<typeof client>;

  beforeAll(async () => {
    h = await startHarness();
    await createTemplate(h, 'typed_client', 'Hello {{name}}');
    api = client(h.url, h.env.ADMIN_API_KEY);
  });
  afterAll(() => h?.close());

  it('sends, lists with filters and reads an error', async () => {
    const sent = await api.sendNotification({
      template: 'typed_client',
      to: ['+14155550100'],
      variables: { name: 'Ada' },
      reference: 'typed-1',
    });
    expect(sent.status).toBe(202);
    if (isError(sent.body)) throw new Error(sent.body.error.message);
    const accepted: Accepted = sent.body;
    expect(accepted.messages).toHaveLength(1);

    const filters: ListFilters = { template: 'typed_client', reference: 'typed-1', limit: '10' };
    const listed = await api.listNotifications(filters);
    expect(listed.status).toBe(200);
    if (isError(listed.body)) throw new Error(listed.body.error.message);
    expect(listed.body.data.map((n) => n.id)).toEqual([accepted.id]);
    expect(listed.body.next_cursor).toBeNull();

    const refused = await api.sendNotification({ template: 'typed_client', to: ['not-a-number'] });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);
    if (!isError(refused.body)) throw new Error('expected the error envelope');
    const code: string = refused.body.error.code;
    expect(code).toMatch(/^[a-z_]+$/);
  });
});
