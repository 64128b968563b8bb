import {
  createTemplate,
  type Harness,
  SANDBOX_KEY,
  startHarness,
  waitForFinal,
} from './support/harness';
import { crowdedSeconds, type LoggedRequest } from './support/provider-log';

describe('Reconciliation polls under a send backlog (e2e)', () => {
  let p: Harness;

  beforeAll(async () => {
    // The sandbox in its own process: its arrival log is the judge (see throttle-service).
    p = await startHarness({
      sandboxProcess: true,
      // One request per message: a backlog of sends that lasts while polls come due.
      env: { RECONCILE_INTERVAL_MS: '200', RECONCILE_STALE_AFTER_MS: '400', SEND_BATCH_MAX: '1' },
    });
    await createTemplate(p, 'note', 'Note {{n}}');
  });
  afterAll(() => p?.close());

  it('polls never push the total over the limit while a send backlog exists', async () => {
    const since = Date.now();
    // Half of them never get a webhook (suffix 888): they need polls while the rest still queue.
    const to = Array.from({ length: 40 }, (_, i) => `+1415${200 + i}0${i % 2 ? '888' : '100'}`);
    const res = await p.api('POST', '/v1/notifications', {
      body: { template: 'note', to, variables: { n: 3 } },
    });
    expect(res.status).toBe(202);
    const final = await waitForFinal(p, res.body.id, 60_000);
    expect(final.messages.filter((m: { status: string }) => m.status !== 'delivered')).toEqual([]);
    const log: LoggedRequest[] = await p.sandboxAdmin(
      'GET',
      `/requests?since=${since}&key=${SANDBOX_KEY}`,
    );
    expect(log.filter((r) => r.method === 'GET').length).toBeGreaterThanOrEqual(20);
    expect(log.filter((r) => r.status === 429)).toEqual([]);
    if (crowdedSeconds(log, 10).length)
      console.log(
        'DBG',
        JSON.stringify(log.map((r) => [r.method[0], Math.round(r.at) % 100000])),
        JSON.stringify((globalThis as any).__sent),
      );
    expect(crowdedSeconds(log, 10)).toEqual([]);
  });
});
