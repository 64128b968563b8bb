import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTemplate, type Harness, startHarness, waitFor } from './support/harness';

/**
 * Callbacks from a service configured as in production (loopback not allowed): a callback_url
 * naming this machine in any spelling, or the metadata address, is refused at connect time,
 * recorded with a clear reason, and never reaches the receiver listening there.
 */
describe('Callbacks refuse internal addresses (e2e)', () => {
  let h: Harness;
  let receiver: Server;
  let port: number;
  let hits = 0;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      hits++;
      res.writeHead(200).end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    port = (receiver.address() as AddressInfo).port;
    h = await startHarness({
      env: { CALLBACK_ALLOW_LOOPBACK: 'false', CALLBACK_RETRY_BASE_MS: '50' },
    });
    await createTemplate(h, 'ssrf', 'Hi {{name}}');
  });
  afterAll(async () => {
    await h?.close();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  async function deliveryFor(callbackUrl: string) {
    const sent = await h.api('POST', '/v1/notifications', {
      body: {
        template: 'ssrf',
        to: '+14155550100',
        variables: { name: 'A' },
        callback_url: callbackUrl,
      },
    });
    expect(sent.status).toBe(202);
    return waitFor(
      async () => {
        const res = await h.api('GET', `/v1/notifications/${sent.body.id}/callbacks`);
        const failed = (
          res.body.data as { status: string; attempts: number; last_error: string }[]
        ).filter((d) => d.status === 'failed');
        return failed[0] ?? null;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: `a failed callback to ${callbackUrl}` },
    );
  }

  it.each([
    ['127.0.0.1', (p: number) => `http://127.0.0.1:${p}/hook`, 'loopback'],
    ['0x7f000001', (p: number) => `http://0x7f000001:${p}/hook`, 'loopback'],
    ['localhost', (p: number) => `http://localhost:${p}/hook`, 'loopback'],
    ['[::ffff:127.0.0.1]', (p: number) => `http://[::ffff:127.0.0.1]:${p}/hook`, 'loopback'],
    ['0.0.0.0', (p: number) => `http://0.0.0.0:${p}/hook`, 'range'],
    ['the metadata address', () => 'http://169.254.169.254/latest/meta-data/', 'range'],
    // IPv6 spellings that carry an IPv4 address (the URL parser writes them in hex).
    ['IPv4-compatible [::127.0.0.1]', (p: number) => `http://[::127.0.0.1]:${p}/hook`, 'loopback'],
    ['NAT64 [64:ff9b::7f00:1]', (p: number) => `http://[64:ff9b::7f00:1]:${p}/hook`, 'loopback'],
    ['NAT64 metadata', () => 'http://[64:ff9b::a9fe:a9fe]/latest/meta-data/', 'range'],
    ['6to4 [2002:7f00:1::]', (p: number) => `http://[2002:7f00:1::]:${p}/hook`, 'loopback'],
    ['unique-local [fd00:ec2::254]', () => 'http://[fd00:ec2::254]/latest/meta-data/', 'range'],
    ['Teredo [2001::7f00:1]', (p: number) => `http://[2001::7f00:1]:${p}/hook`, 'tunnel'],
  ])('refuses %s at once, with the reason, reaching nothing', async (_what, url, kind) => {
    const before = hits;
    const delivery = await deliveryFor(url(port));
    // Refused by policy is final: retrying cannot help.
    expect(delivery.attempts).toBe(1);
    expect(delivery.last_error).toMatch(/^refused: /);
    expect(delivery.last_error).toContain(kind);
    expect(hits).toBe(before);
  });
});
