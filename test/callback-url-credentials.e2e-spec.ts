import { createTemplate, type Harness, startHarness } from './support/harness';

const SECRET = 's3cr3t-pa55';

/**
 * A callback URL with a user and password used to be stored as given and shown to anyone who
 * could read the notification (and to every later reader of a log or export). It is refused
 * at intake now, saying why, and without repeating the password.
 */
describe('Callback URLs with credentials (e2e)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
    await createTemplate(h, 'cred', 'Hi {{name}}');
  });
  afterAll(() => h?.close());

  const send = (callbackUrl: string) =>
    h.api('POST', '/v1/notifications', {
      body: {
        template: 'cred',
        to: '+14155550100',
        variables: { name: 'A' },
        callback_url: callbackUrl,
      },
    });

  it.each([
    `https://user:${SECRET}@hooks.example.com/sms`,
    `https://${SECRET}@hooks.example.com/sms`,
    `https://:${SECRET}@hooks.example.com/sms`,
    `http://user%40corp:${SECRET}@hooks.example.com:8443/sms?x=1`,
    `HTTPS://USER:${SECRET}@HOOKS.EXAMPLE.COM/`,
  ])('refuses %s with 422 callback_url_credentials, storing nothing', async (url) => {
    const [{ n: before }] = await h.sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM notifications`,
    );
    const res = await send(url);
    expect(res.status).toBe(422);
    expect(res.body).toEqual({
      success: false,
      error: {
        code: 'callback_url_credentials',
        message: expect.stringContaining('user name or password'),
        details: { field: 'callback_url' },
      },
    });
    expect(res.text).not.toContain(SECRET);
    const [{ n: after }] = await h.sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM notifications`,
    );
    expect(after).toBe(before);
  });

  it('accepts a callback URL without credentials, an @ in its path or query included', async () => {
    const url = 'https://hooks.example.com/sms/@team?owner=ops@example.com';
    const res = await send(url);
    expect(res.status).toBe(202);
    const shown = await h.api('GET', `/v1/notifications/${res.body.id}`);
    expect(shown.body.callback_url).toBe(url);
  });
});
