import { spawnSync } from 'node:child_process';
import {
  createTemplate,
  type Harness,
  startHarness,
  waitFor,
  waitForFinal,
} from './support/harness';

/** One sample of the scrape: `name{labels} value`, labels as written by prom-client. */
function sample(text: string, name: string, labels = ''): number | null {
  const escaped = `${name}${labels ? `{${labels}}` : ''}`.replace(/[{}.*+?^$()|[\]\\]/g, '\\$&');
  const match = new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : null;
}

describe('Metrics (e2e)', () => {
  let h: Harness;
  const scrape = async () => (await h.api('GET', '/metrics', { key: null })).text;

  beforeAll(async () => {
    h = await startHarness();
    await createTemplate(h, 'metrics_probe', 'Code {{code}}');
  });
  afterAll(() => h?.close());

  it('reports sending paused as 0 from the start, and the backlog gauges', async () => {
    const text = await scrape();
    expect(sample(text, 'notify_sending_paused')).toBe(0);
    expect(sample(text, 'notify_sending_paused_reason', 'reason="manual"')).toBe(0);
    expect(sample(text, 'notify_messages', 'status="pending"')).toBe(0);
    expect(sample(text, 'notify_oldest_pending_age_seconds')).toBe(0);
    expect(sample(text, 'notify_queue_jobs', 'queue="send",state="waiting"')).toBe(0);
  });

  it('counts requests by route and status class, failures by code, and the backlog', async () => {
    const sent = await h.api('POST', '/v1/notifications', {
      body: {
        template: 'metrics_probe',
        to: ['+14155550100', '+14155550400'],
        variables: { code: '1' },
      },
    });
    expect(sent.status).toBe(202);
    await waitForFinal(h, sent.body.id);
    const later = await h.api('POST', '/v1/notifications', {
      body: {
        template: 'metrics_probe',
        to: ['+14155550101'],
        variables: { code: '2' },
        scheduled_at: new Date(Date.now() + 3_600_000).toISOString(),
      },
    });
    expect(later.status).toBe(202);
    expect((await h.api('GET', '/v1/notifications/not-a-uuid')).status).toBe(404);

    const text = await waitFor(
      async () => {
        const t = await scrape();
        return sample(t, 'notify_provider_credits_remaining', 'account="default"') !== null
          ? t
          : null;
      },
      { what: 'credits remaining to be known' },
    );
    expect(
      sample(
        text,
        'notify_http_request_duration_seconds_count',
        'method="POST",route="/v1/notifications",status_class="2xx"',
      ),
    ).toBe(2);
    expect(
      sample(
        text,
        'notify_http_request_duration_seconds_count',
        'method="GET",route="/v1/notifications/:id",status_class="4xx"',
      ),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'notify_message_failures_total', 'error_code="invalid_phone_number"')).toBe(
      1,
    );
    expect(sample(text, 'notify_messages', 'status="scheduled"')).toBe(1);
    expect(sample(text, 'notify_provider_requests_total', 'operation="send",outcome="ok"')).toBe(1);
    expect(text).toMatch(/^notify_throttle_wait_seconds_count [1-9]/m);
    // Label values in snake_case, like the rest of the API.
    expect(text).not.toMatch(/="[a-z]+[A-Z]\w*"/);
    expect(text).toContain('event="held_by_log"');
  });

  it('shows a pause at once, on every scrape', async () => {
    expect((await h.api('POST', '/v1/queue/pause', { body: {} })).status).toBe(200);
    const text = await scrape();
    expect(sample(text, 'notify_sending_paused')).toBe(1);
    expect(sample(text, 'notify_sending_paused_reason', 'reason="manual"')).toBe(1);
    expect((await h.api('POST', '/v1/queue/resume')).status).toBe(200);
    expect(sample(await scrape(), 'notify_sending_paused')).toBe(0);
  });

  it('passes promtool check metrics', async () => {
    const check = spawnSync('promtool', ['check', 'metrics'], {
      input: await scrape(),
      encoding: 'utf8',
    });
    expect(check.error).toBeUndefined();
    expect(`${check.stdout}${check.stderr}`.trim()).toBe('');
    expect(check.status).toBe(0);
  });
});
