import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTemplate, type Harness, startHarness, waitFor } from './support/harness';

/** A caller's endpoint that takes every request and never answers (until it is closed). */
class Tarpit {
  open = 0;
  mostOpen = 0;
  /** When the first request ended: our client gave up on it (its timeout). */
  firstEndedAt: number | null = null;
  url = '';
  private readonly server: Server;

  constructor() {
    this.server = createServer((req) => {
      this.open += 1;
      this.mostOpen = Math.max(this.mostOpen, this.open);
      req.socket.once('close', () => {
        this.open -= 1;
        this.firstEndedAt ??= Date.now();
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** One team's slow endpoint must not hold back another team's callbacks (10 shared workers). */
describe('Callbacks of one team are not delayed by another team’s slow endpoint (e2e)', () => {
  let h: Harness;
  let tarpit: Tarpit;
  let fast: Server;
  let fastUrl: string;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    tarpit = new Tarpit();
    await tarpit.start();
    fast = createServer((_req, res) => res.writeHead(204).end());
    await new Promise<void>((resolve) => fast.listen(0, '127.0.0.1', resolve));
    fastUrl = `http://127.0.0.1:${(fast.address() as AddressInfo).port}`;
    h = await startHarness({ env: { CALLBACK_TIMEOUT_MS: '20000' } });
    await createTemplate(h, 'iso', 'Order {{id}} shipped');
    for (const team of ['slowpoke', 'nimble']) {
      const created = await h.api('POST', '/v1/api-keys', {
        body: { name: `${team}-svc`, team, scopes: ['notifications:send', 'notifications:read'] },
      });
      expect(created.status).toBe(201);
      keys[team] = created.body.key;
    }
  });

  afterAll(async () => {
    await h?.close();
    await tarpit?.close();
    await new Promise((resolve) => fast?.close(resolve));
  });

  it('serves the other team while one team’s endpoint holds its requests', async () => {
    // 12 messages of the slow team: 12 callbacks due at once, more than the 10 workers.
    for (let i = 0; i < 12; i += 1) {
      const res = await h.api('POST', '/v1/notifications', {
        key: keys.slowpoke,
        body: {
          template: 'iso',
          to: `+1415555${String(7000 + i)}`,
          variables: { id: i },
          callback_url: `${tarpit.url}/events`,
        },
      });
      expect(res.status).toBe(202);
    }
    await waitFor(() => tarpit.open >= 3, { what: 'the slow team’s requests to hang' });

    const nimble = await h.api('POST', '/v1/notifications', {
      key: keys.nimble,
      body: { template: 'iso', to: '+14155557100', variables: { id: 'n' }, callback_url: fastUrl },
    });
    expect(nimble.status).toBe(202);
    const delivered = await waitFor(
      async () => {
        const res = await h.api('GET', `/v1/notifications/${nimble.body.id}/callbacks`, {
          key: keys.nimble,
        });
        const list = res.body.data as { event: string; status: string }[];
        return list.some((d) => d.event === 'message.delivered') &&
          list.every((d) => d.status === 'delivered')
          ? list
          : null;
      },
      { what: 'the other team’s callbacks', timeoutMs: 40_000 },
    );
    // One callback per status change of its message (queued, sent, delivered; under load the
    // provider's `sent` can arrive after its `delivered` and is then no change), and all of them
    // went out while the slow team's requests were still hanging: none had to wait for a worker
    // to be freed by a timeout.
    const view = await h.api('GET', `/v1/notifications/${nimble.body.id}`, { key: keys.nimble });
    const changes = (view.body.messages[0].events as { type: string }[])
      .filter((e) => ['queued', 'sent', 'delivered'].includes(e.type))
      .map((e) => `message.${e.type}`);
    expect(changes.length).toBeGreaterThanOrEqual(2);
    expect(delivered.map((d) => d.event).sort()).toEqual(changes.sort());
    expect(tarpit.firstEndedAt).toBeNull();
    expect(tarpit.mostOpen).toBe(3);
  }, 60_000);
});
