import { callApi } from '../tools/stack';
import { ADMIN_KEY, createTemplate, type Harness, startHarness, waitFor } from './support/harness';
import {
  type LoggedService,
  type ServiceProcess,
  startLoggedService,
} from './support/service-process';

// Numbers that must never appear in the log, in any form: the digits alone are searched for.
const IN_BODY = '+14155550101';
const IN_QUERY = '+14155550102';
const IN_PATH = '+14155550103';
const BARE_IN_PATH = '14155550104';

type Line = Record<string, any>;

describe('Logs (e2e, the service as a process writing JSON)', () => {
  let h: Harness;
  let service: ServiceProcess;
  let logged: LoggedService;

  const lines = (): Line[] => logged.lines();

  beforeAll(async () => {
    // The harness's own instance only serves the API for set-up; the process under test sends.
    h = await startHarness({ env: { APP_ROLE: 'api' } });
    await createTemplate(h, 'log_probe', 'Your code is {{code}}');
    logged = await startLoggedService(h, {
      APP_ROLE: 'all',
      LOG_LEVEL: 'debug',
      // Failed authentications are summarised once per window: a short one to see the summary.
      AUTH_FAILURE_WINDOW_MS: '2000',
    });
    service = logged.service;
  });

  afterAll(async () => {
    await logged?.close();
    await h?.close();
  });

  it('writes only JSON, with the level as text, from the first line on', () => {
    const all = lines();
    expect(all.length).toBeGreaterThan(0);
    for (const line of all) expect(typeof line.level).toBe('string');
    expect(all.some((l) => /listening on http:\/\/127\.0\.0\.1:/.test(String(l.msg)))).toBe(true);
  });

  it('ties a request, its access line and the worker lines of its message together', async () => {
    const sent = await callApi<any>(service.url, 'POST', '/v1/notifications', {
      key: ADMIN_KEY,
      headers: { 'x-request-id': 'trace-me-1' },
      body: { template: 'log_probe', to: [IN_BODY], variables: { code: '1234' } },
    });
    expect(sent.status).toBe(202);
    expect(sent.headers.get('x-request-id')).toBe('trace-me-1');
    const messageId: string = sent.body.messages[0].id;

    const accepted = await waitFor(
      () =>
        lines().find(
          (l) => l.message_id === messageId && /Provider accepted/.test(String(l.msg)),
        ) ?? null,
      { what: 'the worker line of the message' },
    );
    expect(accepted).toMatchObject({
      level: 'debug',
      request_id: 'trace-me-1',
      notification_id: sent.body.id,
    });

    const access = lines().find((l) => l.request_id === 'trace-me-1' && l.res);
    expect(access).toMatchObject({
      level: 'info',
      req: { method: 'POST', url: '/v1/notifications' },
      res: { statusCode: 202 },
    });
    expect(typeof access?.response_time_ms).toBe('number');
  });

  it('logs errors with their real status, returns a request id on them, never a number', async () => {
    const list = await callApi(
      service.url,
      'GET',
      `/v1/notifications?recipient=${encodeURIComponent(IN_QUERY)}&to=${IN_QUERY}`,
      { key: 'not-a-key-at-all' },
    );
    expect(list.status).toBe(401);
    const generated = list.headers.get('x-request-id');
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);

    // Three more failures right after it, inside the same 2 s window.
    const later = ['bad-2', 'bad-3', 'bad-4'];
    for (const id of later) {
      const res = await callApi(service.url, 'GET', '/v1/templates', {
        key: 'still-not-a-key',
        headers: { 'x-request-id': id },
      });
      expect(res.status).toBe(401);
    }

    const missing = await callApi(service.url, 'GET', `/v1/recipients/${IN_PATH}/x`, {
      key: ADMIN_KEY,
      headers: { 'x-request-id': 'trace-me-404' },
    });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-request-id')).toBe('trace-me-404');
    const bare = await callApi(service.url, 'GET', `/v1/notifications/${BARE_IN_PATH}`, {
      key: ADMIN_KEY,
    });
    expect(bare.status).toBeGreaterThanOrEqual(400);

    await callApi(service.url, 'GET', '/health/ready');
    await callApi(service.url, 'GET', '/metrics');

    const line401 = await waitFor(() => lines().find((l) => l.request_id === generated) ?? null, {
      what: 'the 401 access line',
    });
    expect(line401).toMatchObject({ level: 'warn', res: { statusCode: 401 } });
    await waitFor(() => lines().find((l) => l.request_id === 'trace-me-404') ?? null, {
      what: 'the 404 access line',
    });
    expect(line401.req.url).not.toContain('14155550102');

    // Later failures of the same window got no access line each, but one summary at its end.
    const summary = await waitFor(
      () => lines().find((l) => /more failed authentication\(s\)/.test(String(l.msg))) ?? null,
      { what: 'the failed-authentication summary' },
    );
    expect(summary).toMatchObject({ level: 'warn', msg: expect.stringMatching(/^3 more failed/) });
    expect(lines().filter((l) => later.includes(String(l.request_id)))).toEqual([]);

    const text = service.output();
    for (const number of [IN_BODY, IN_QUERY, IN_PATH, BARE_IN_PATH]) {
      expect(text).not.toContain(number.replace('+', ''));
    }
    expect(text).not.toContain(ADMIN_KEY);
    expect(text).not.toContain('Your code is 1234');
    expect(lines().some((l) => /^\/(health|metrics)/.test(String(l.req?.url ?? '')))).toBe(false);
  });
});
