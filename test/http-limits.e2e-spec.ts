import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { rawHttp } from '../tools/stack';
import { ADMIN_KEY, type Harness, startHarness, waitFor } from './support/harness';

/** A raw client connection: what it has received, and when the server closed it. */
interface Client {
  socket: Socket;
  received(): string;
  closed: Promise<number>;
}

function open(port: number, localAddress: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const chunks: Buffer[] = [];
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    const closed = new Promise<number>((done) =>
      socket.on('close', () => done(performance.now() - startedAt)),
    );
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.once('connect', () =>
      resolve({ socket, received: () => Buffer.concat(chunks).toString('utf8'), closed }),
    );
    socket.once('error', reject);
  });
}

const statusOf = (client: Client) => /^HTTP\/1\.1 (\d{3})/.exec(client.received())?.[1];

/**
 * Slow, idle and greedy clients cannot hold the server: header, body and idle timeouts, caps on
 * connections per address, and authentication before a body is read.
 */
describe('HTTP limits against slow, idle and unauthenticated clients (e2e)', () => {
  let h: Harness;
  let port: number;
  const clients: Client[] = [];
  const connectFrom = async (address: string) => {
    const client = await open(port, address);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    h = await startHarness({
      env: {
        HTTP_HEADERS_TIMEOUT_MS: '1000',
        HTTP_REQUEST_TIMEOUT_MS: '2000',
        HTTP_MAX_CONNECTIONS_PER_ADDRESS: '8',
        AUTH_FAILURE_LIMIT: '3',
      },
    });
    port = Number(new URL(h.url).port);
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.socket.destroy();
  });
  afterAll(() => h?.close());

  it('closes a connection that sends nothing with 408 after the headers timeout', async () => {
    const idle = await connectFrom('127.0.0.41');
    const after = await idle.closed;
    expect(statusOf(idle)).toBe('408');
    expect(JSON.parse(idle.received().split('\r\n\r\n')[1])).toMatchObject({
      error: { code: 'request_timeout' },
    });
    expect(after).toBeGreaterThanOrEqual(900);
  });

  it('closes a connection that sends its headers a byte at a time with 408', async () => {
    const slow = await connectFrom('127.0.0.42');
    slow.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => slow.socket.writable && slow.socket.write('X'), 100);
    try {
      await slow.closed;
    } finally {
      clearInterval(drip);
    }
    expect(statusOf(slow)).toBe('408');
  });

  it('closes a request whose body arrives a byte at a time with 408 after the request timeout', async () => {
    const slow = await connectFrom('127.0.0.43');
    slow.socket.write(
      `POST /v1/notifications HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_KEY}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{',
    );
    const drip = setInterval(() => slow.socket.writable && slow.socket.write(' '), 100);
    try {
      await slow.closed;
    } finally {
      clearInterval(drip);
    }
    expect(statusOf(slow)).toBe('408');
  });

  it('caps the connections one address holds, while other clients are served', async () => {
    const held = await Promise.all(Array.from({ length: 8 }, () => connectFrom('127.0.0.44')));
    // Each of the eight is accepted and kept (no answer yet: it has sent nothing).
    const over = await connectFrom('127.0.0.44');
    await over.closed;
    expect(over.received()).toBe('');
    expect(held.every((client) => !client.socket.destroyed)).toBe(true);

    // Health and a valid caller from another address are served meanwhile.
    const health = await rawHttp(`${h.url}/health/live`, { localAddress: '127.0.0.45' });
    expect(health.status).toBe(200);
    const valid = await rawHttp(`${h.url}/v1/templates`, {
      localAddress: '127.0.0.45',
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(valid.status).toBe(200);

    // Once one of the eight goes, the address may connect again.
    held[0].socket.destroy();
    await held[0].closed;
    const again = await waitFor(
      async () => {
        const res = await rawHttp(`${h.url}/health/live`, { localAddress: '127.0.0.44' }).catch(
          () => null,
        );
        return res?.status === 200 ? res : null;
      },
      { timeoutMs: 5000, intervalMs: 20, what: 'a free connection slot for the address' },
    );
    expect(again.status).toBe(200);
  });

  /** Sends the headers of a large body and none of the body; the answer must come anyway. */
  async function headersOfLargeBody(address: string, path: string, headers: string) {
    const client = await connectFrom(address);
    client.socket.write(
      `POST ${path} HTTP/1.1\r\nHost: x\r\n${headers}Content-Type: application/json\r\n` +
        'Content-Length: 900000\r\n\r\n',
    );
    const after = await client.closed;
    return { client, after };
  }

  it('refuses a wrong key before reading the body, and closes the connection', async () => {
    // Before: the body was read and parsed first, so this waited for 900 KB that never came.
    const { client, after } = await headersOfLargeBody(
      '127.0.0.46',
      '/v1/notifications',
      'Authorization: Bearer wrong-key\r\n',
    );
    expect(statusOf(client)).toBe('401');
    expect(client.received()).toMatch(/connection: close/i);
    // Long before the request timeout (2 s) would have ended the wait for the body.
    expect(after).toBeLessThan(1500);
  });

  it('refuses a blocked address before reading the body, and still serves its valid key', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await rawHttp(`${h.url}/v1/templates`, {
        localAddress: '127.0.0.47',
        headers: { authorization: `Bearer bad-${i}` },
      });
      expect(res.status).toBe(401);
    }
    const { client, after } = await headersOfLargeBody(
      '127.0.0.47',
      '/v1/notifications',
      'Authorization: Bearer bad-4\r\n',
    );
    expect(statusOf(client)).toBe('429');
    expect(after).toBeLessThan(1500);
    const valid = await rawHttp(`${h.url}/v1/templates`, {
      localAddress: '127.0.0.47',
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(valid.status).toBe(200);
  });

  it('refuses a webhook without a signature, or declaring a large body, before reading it', async () => {
    const unsigned = await headersOfLargeBody('127.0.0.48', '/v1/webhooks/sms-provider', '');
    expect(statusOf(unsigned.client)).toBe('401');
    expect(unsigned.client.received()).toContain('invalid_signature');
    expect(unsigned.after).toBeLessThan(1500);

    const large = await headersOfLargeBody(
      '127.0.0.48',
      '/v1/webhooks/sms-provider',
      `X-SMSProvider-Signature: ${'0'.repeat(64)}\r\n`,
    );
    expect(statusOf(large.client)).toBe('413');
    expect(large.after).toBeLessThan(1500);
  });
});
