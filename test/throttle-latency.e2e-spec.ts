import {
  createTemplate,
  freePort,
  type Harness,
  numbers,
  SANDBOX_KEY,
  startHarness,
  waitForFinal,
} from './support/harness';
import { expectLimitKept, type LoggedRequest } from './support/provider-log';
import { type ServiceProcess, spawnService } from './support/service-process';

/**
 * The provider's limit as the provider counts it, with the provider a network away: the sandbox
 * (its own process) holds every request 80–120 ms before it counts and logs it and its answer
 * 100 ms more, a 200 ± 20 ms round trip during which the service cannot know when it was counted.
 * The throttle credits answered calls with the fastest recent round trip (docs/guarantees.md, "Why
 * the rate limit holds"); whatever it gains, no sliding second of the sandbox's count stamps may
 * hold more than the plan allows, with one sending process or two sharing the budget.
 */
const FORWARD_MS: [number, number] = [80, 120];
const RETURN_MS = 100;
const LIMIT = 10;

describe('Shared throttle against a provider 200 ± 20 ms away, 10 req/s (e2e)', () => {
  let api: Harness;
  const workers: ServiceProcess[] = [];

  beforeAll(async () => {
    api = await startHarness({
      sandboxProcess: true,
      sandbox: { forwardDelayMs: FORWARD_MS, returnDelayMs: RETURN_MS },
      // One request per message: the property is about requests, and a batch would be one.
      env: { APP_ROLE: 'api', SEND_BATCH_MAX: '1' },
    });
    await createTemplate(api, 'bulk', 'Flash sale {{n}}');
  });
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.kill('SIGTERM')));
    await api?.close();
  });

  async function startWorker(): Promise<void> {
    const port = String(await freePort());
    workers.push(await spawnService({ ...api.env, PORT: port, APP_ROLE: 'worker' }));
  }

  /** notify_throttle_total{event} summed over every process of the stack. */
  async function throttleEvents(event: string): Promise<number> {
    const counts = await Promise.all(
      [api.url, ...workers.map((worker) => worker.url)].map(async (url) => {
        const metrics = await (await fetch(`${url}/metrics`)).text();
        const match = new RegExp(`notify_throttle_total\\{event="${event}"\\} (\\d+)`).exec(
          metrics,
        );
        return Number(match?.[1] ?? 0);
      }),
    );
    return counts.reduce((sum, n) => sum + n, 0);
  }

  async function sendAndCheck(recipients: string[]): Promise<void> {
    const since = Date.now();
    const res = await api.api('POST', '/v1/notifications', {
      body: { template: 'bulk', to: recipients, variables: { n: 1 } },
    });
    expect(res.status).toBe(202);
    const final = await waitForFinal(api, res.body.id, 90_000);
    expect(final.messages.every((m: { status: string }) => m.status === 'delivered')).toBe(true);
    await expectLimitKept(api.sandbox.adminUrl, {
      since,
      key: SANDBOX_KEY,
      expected: recipients.length,
      limit: LIMIT,
    });
    // The provider's Remaining never said it counted more than the log allows for.
    expect(await throttleEvents('margin_widened')).toBe(0);
  }

  it('the sandbox counts a request when it arrives, between the send and the answer', async () => {
    // A key of its own: this probe is not the service's traffic.
    await api.sandboxAdmin('PUT', '/accounts/sk_test_probe', {});
    const since = Date.now();
    const sentAt = Date.now();
    const answer = await fetch(`${api.sandbox.url}/account`, {
      headers: { authorization: 'Bearer sk_test_probe' },
    });
    const answeredAt = Date.now();
    expect(answer.status).toBe(200);
    const [logged] = await api.sandboxAdmin<LoggedRequest[]>(
      'GET',
      `/requests?since=${since}&key=sk_test_probe`,
    );
    expect(logged.at - sentAt).toBeGreaterThanOrEqual(FORWARD_MS[0] - 1);
    expect(answeredAt - logged.at).toBeGreaterThanOrEqual(RETURN_MS - 1);
  });

  it('100 messages through one sending process: zero 429s, never more than 10 in any second', async () => {
    await startWorker();
    await sendAndCheck(numbers(4000, 100));
  });

  it('two sending processes sharing the budget and its round trips stay within the limit together', async () => {
    await startWorker();
    await sendAndCheck(numbers(5000, 100));
  });
});
