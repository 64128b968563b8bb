/*
 * A caller written against the client library generated from openapi.json (libs/api-client,
 * `npm run openapi`): `npm test` type-checks it, so a document that types errors as `never` or
 * lacks the list filters fails the build; running it checks the types against real answers.
 */
import {
  type ApiClient,
  ApiError,
  createApiClient,
  MESSAGE_STATUSES,
  type Schemas,
  unwrap,
} from '@app/api-client';
import { createTemplate, type Harness, startHarness, waitForFinal } from '../support/harness';

describe('The client library generated from the OpenAPI document (e2e)', () => {
  let h: Harness;
  let api: ApiClient;

  beforeAll(async () => {
    h = await startHarness();
    await createTemplate(h, 'typed_client', 'Hello {{name}}');
    api = createApiClient({ baseUrl: h.url, key: h.env.ADMIN_API_KEY });
  });
  afterAll(() => h?.close());

  it('sends, lists with filters and reads an error', async () => {
    const sent = await api.POST('/v1/notifications', {
      body: {
        template: 'typed_client',
        to: ['+14155550100'],
        variables: { name: 'Ada' },
        reference: 'typed-1',
      },
    });
    expect(sent.response.status).toBe(202);
    if (sent.error) throw new Error(sent.error.error.message);
    const accepted: Schemas['AcceptedNotification'] = sent.data;
    expect(accepted.messages).toHaveLength(1);

    const listed = await api.GET('/v1/notifications', {
      params: { query: { template: 'typed_client', reference: 'typed-1', limit: '10' } },
    });
    expect(listed.response.status).toBe(200);
    if (listed.error) throw new Error(listed.error.error.message);
    expect(listed.data.data.map((n) => n.id)).toEqual([accepted.id]);
    expect(listed.data.next_cursor).toBeNull();

    const refused = await api.POST('/v1/notifications', {
      body: { template: 'typed_client', to: ['not-a-number'] },
    });
    expect(refused.response.status).toBeGreaterThanOrEqual(400);
    expect(refused.response.status).toBeLessThan(500);
    if (!refused.error) throw new Error('expected the error envelope');
    const code: string = refused.error.error.code;
    expect(code).toMatch(/^[a-z_]+$/);
  });

  it('fills path parameters and filters by a status the document lists', async () => {
    const sent = await unwrap(
      api.POST('/v1/notifications', {
        body: { template: 'typed_client', to: ['+14155550101'], variables: { name: 'Bo' } },
      }),
    );
    const messageId = sent.messages[0].id;
    // A final status stays put between the two reads below.
    await waitForFinal(h, sent.id);

    const message = await unwrap(
      api.GET('/v1/messages/{id}', { params: { path: { id: messageId } } }),
    );
    expect(message.notification_id).toBe(sent.id);
    expect(MESSAGE_STATUSES).toContain(message.status);

    const page = await unwrap(
      api.GET('/v1/messages', {
        params: { query: { notification_id: sent.id, status: message.status } },
      }),
    );
    expect(page.data.map((m) => m.id)).toEqual([messageId]);
  });

  it('turns an error answer into an ApiError with the envelope’s code', async () => {
    const stranger = createApiClient({ baseUrl: h.url, key: 'not-a-real-key-0000' });
    const refused = unwrap(stranger.GET('/v1/messages', { params: { query: { limit: '1' } } }));
    await expect(refused).rejects.toBeInstanceOf(ApiError);
    await expect(refused).rejects.toMatchObject({ status: 401, code: expect.any(String) });

    const missing = unwrap(
      api.GET('/v1/messages/{id}', {
        params: { path: { id: '00000000-0000-4000-8000-000000000000' } },
      }),
    );
    await expect(missing).rejects.toMatchObject({ status: 404, code: 'message_not_found' });
  });
});
