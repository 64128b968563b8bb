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
 * The provider's limit as the provider sees it: the sandbox logs the arrival time of every request,
 * and no sliding one-second window of them may hold more than the plan allows (standard: 10).
 *
 * Deployed as the README recommends for sending at the limit, each part in its own process: an
 * API instance (here, in the test's process: intake and webhooks), sending instances
 * (`APP_ROLE=worker`), and the provider (the sandbox: stamps taken on an event loop that also runs
 * the service would time that loop, not the requests).
 */
describe('Shared throttle against the sandbox at 10 req/s (e2e)', () => {
  let api: Harness;
  const workers: ServiceProcess[] = [];

  beforeAll(async () => {
    // One request per message (workers take api.env): the property is about requests.
    api = await startHarness({
      sandboxProcess: true,
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

  async function sendAndCheck(recipients: string[]): Promise<LoggedRequest[]> {
    const since = Date.now();
    const res = await api.api('POST', '/v1/notifications', {
      body: { template: 'bulk', to: recipients, variables: { n: 1 } },
    });
    expect(res.status).toBe(202);
    const final = await waitForFinal(api, res.body.id, 60_000);
    expect(final.messages.every((m: { status: string }) => m.status === 'delivered')).toBe(true);

    const { sends } = await expectLimitKept(api.sandbox.adminUrl, {
      since,
      key: SANDBOX_KEY,
      expected: recipients.length,
      limit: 10,
    });
    // The other side: the backlog did not trickle (≥ 90% of the limit end to end).
    const spanSeconds = (sends[sends.length - 1].at - sends[0].at) / 1000;
    expect((sends.length - 1) / spanSeconds).toBeGreaterThan(9);
    return sends;
  }

  it('100 messages through one sending instance: zero 429s, never more than 10 in any second', async () => {
    await startWorker();
    await sendAndCheck(numbers(4000, 100));
  });

  it('two sending instances sharing Redis and PostgreSQL stay within the one budget together', async () => {
    await startWorker();
    await sendAndCheck(numbers(5000, 100));
    // Both took part: the budget is shared, not split by who asked first.
    const perWorker = await Promise.all(
      workers.map(async (worker) => {
        const metrics = await (await fetch(`${worker.url}/metrics`)).text();
        const match = /notify_provider_requests_total\{operation="send",outcome="ok"\} (\d+)/.exec(
          metrics,
        );
        return Number(match?.[1] ?? 0);
      }),
    );
    expect(perWorker[1]).toBeGreaterThan(10);
  });
});
