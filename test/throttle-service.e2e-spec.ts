import { maxInSlidingWindow } from '../apps/notification-service/src/sending/throttle';
import {
  createTemplate,
  type Harness,
  SANDBOX_KEY,
  startHarness,
  waitForFinal,
} from './support/harness';

interface LoggedRequest {
  at: number;
  method: string;
  path: string;
  key: string;
  status: number | null;
}

const numbers = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => `+1415555${String(from + i).padStart(4, '0')}`);

/**
 * The provider's limit as the provider sees it: the sandbox logs the arrival time of every request,
 * and no sliding one-second window of them may hold more than the plan allows (standard: 10).
 */
describe('Shared throttle against the sandbox at 10 req/s (e2e)', () => {
  let a: Harness;
  let b: Harness | undefined;

  beforeAll(async () => {
    a = await startHarness();
    await createTemplate(a, 'bulk', 'Flash sale {{n}}');
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  async function sendAndCheck(via: Harness, recipients: string[]) {
    const since = Date.now();
    const res = await via.api('POST', '/v1/notifications', {
      body: { template: 'bulk', to: recipients, variables: { n: 1 } },
    });
    expect(res.status).toBe(202);
    const final = await waitForFinal(via, res.body.id, 60_000);
    expect(final.messages.every((m: { status: string }) => m.status === 'delivered')).toBe(true);

    const log: LoggedRequest[] = await a.sandboxAdmin(
      'GET',
      `/requests?since=${since}&key=${SANDBOX_KEY}`,
    );
    const sends = log.filter((r) => r.method === 'POST' && r.path === '/v1/messages');
    expect(sends).toHaveLength(recipients.length);
    expect(log.filter((r) => r.status === 429)).toEqual([]);
    expect(
      maxInSlidingWindow(
        log.map((r) => r.at),
        1000,
      ),
    ).toBeLessThanOrEqual(10);
    return sends;
  }

  it('100 messages through one instance: zero 429s, never more than 10 in any second', async () => {
    const sends = await sendAndCheck(a, numbers(4000, 100));
    // Sanity on the other side: the backlog did not trickle (≥ 90% of the limit end to end).
    const spanSeconds = (sends[sends.length - 1].at - sends[0].at) / 1000;
    expect(99 / spanSeconds).toBeGreaterThan(9);
  });

  it('two instances sharing Redis and PostgreSQL stay within the one budget together', async () => {
    b = await startHarness({ shareWith: a });
    const sends = await sendAndCheck(b, numbers(5000, 100));
    const spanSeconds = (sends[sends.length - 1].at - sends[0].at) / 1000;
    expect(99 / spanSeconds).toBeGreaterThan(9);
  });
});
