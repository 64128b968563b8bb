import { connect, type Socket } from 'node:net';
import { callApi } from '../tools/stack';
import { ADMIN_KEY, type Harness, startHarness, waitFor } from './support/harness';
import {
  type LoggedService,
  type ServiceProcess,
  startLoggedService,
} from './support/service-process';

type Line = Record<string, any>;

/** A number's digits in order with any separators between them: how a log could still show it. */
function spelledAnyWay(digits: string): RegExp {
  return new RegExp(digits.split('').join('(?:[\\s.()+-]|%20|%2B|%28|%29)*'), 'i');
}

/**
 * The access log as an operator reads it: every request's line, its number and key material
 * masked whatever their spelling, and its status the one the client got (or none, when it got
 * none), never the 200 a response object starts with.
 */
describe('Access lines tell the truth and keep secrets (e2e, the service as a process)', () => {
  let h: Harness;
  let service: ServiceProcess;
  let logged: LoggedService;

  const lines = (): Line[] => logged.lines();
  const accessLine = (requestId: string) =>
    waitFor(() => lines().find((l) => l.request_id === requestId && 'res' in l) ?? null, {
      what: `the access line of ${requestId}`,
    });

  beforeAll(async () => {
    h = await startHarness({ env: { APP_ROLE: 'api' } });
    logged = await startLoggedService(h, {
      APP_ROLE: 'api',
      LOG_LEVEL: 'info',
      HTTP_HEADERS_TIMEOUT_MS: '1000',
      HTTP_REQUEST_TIMEOUT_MS: '1500',
    });
    service = logged.service;
  });

  afterAll(async () => {
    await logged?.close();
    await h?.close();
  });

  describe('masking', () => {
    // Last seven digits of each: 5550101 … 5550108.
    const written = [
      ['spaces', '/v1/messages?to=%2B1%20415%20555%200101'],
      ['dashes', '/v1/messages?to=+1-415-555-0102'],
      ['dots, form-encoded', '/v1/messages?reference=%2B1.415.555.0103&x=+1+415+555+0103'],
      ['tel:', '/v1/messages?reference=tel:%2B14155550104'],
      ['tel: in a path', '/v1/recipients/tel:+14155550105'],
      ['parentheses', '/v1/messages?reference=(415)%20555-0106'],
      ['national, dashes', '/v1/recipients/415-555-0107/x'],
    ] as const;

    it.each(written)('masks a number written with %s in the access line', async (_how, path) => {
      const requestId = `mask-${path.length}-${Math.random().toString(36).slice(2)}`;
      await callApi(service.url, 'GET', path, {
        key: ADMIN_KEY,
        headers: { 'x-request-id': requestId },
      });
      const line = await accessLine(requestId);
      const digits = /5550(10\d)/.exec(decodeURIComponent(path).replace(/\D/g, ''))![0];
      expect(JSON.stringify(line)).not.toMatch(spelledAnyWay(digits));
      expect(line.req.url).toContain('*');
    });

    it('refuses an X-Request-Id that is a phone number: neither echoed nor logged', async () => {
      for (const given of ['+14155550111', '+1 415 555 0112', '14155550113', '415-555-0114']) {
        const res = await callApi(service.url, 'GET', '/v1/templates', {
          key: ADMIN_KEY,
          headers: { 'x-request-id': given },
        });
        expect(res.status).toBe(200);
        const echoed = res.headers.get('x-request-id');
        expect(echoed).toMatch(/^[0-9a-f-]{36}$/);
        const line = await accessLine(echoed!);
        const digits = given.replace(/\D/g, '').slice(-7);
        expect(JSON.stringify(line)).not.toMatch(spelledAnyWay(digits));
      }
      // An ordinary id still goes through as given.
      const plain = await callApi(service.url, 'GET', '/v1/templates', {
        key: ADMIN_KEY,
        headers: { 'x-request-id': 'checkout-7f3a-retry-2' },
      });
      expect(plain.headers.get('x-request-id')).toBe('checkout-7f3a-retry-2');
    });

    it('keeps API keys and tokens in a query string out of the access line', async () => {
      const key = `nk_${'A1b2C3d4'.repeat(4)}`;
      const secrets = [key, 'tok-0123456789abcdef', 'ya29.access-token-value', 'plain-key-value'];
      const requestId = `keys-${Date.now()}`;
      const res = await callApi(
        service.url,
        'GET',
        `/v1/templates?api_key=${key}&token=${secrets[1]}&access_token=${secrets[2]}&key=${secrets[3]}&page=2`,
        { key: ADMIN_KEY, headers: { 'x-request-id': requestId } },
      );
      expect(res.status).toBeGreaterThanOrEqual(200);
      const line = await accessLine(requestId);
      for (const secret of secrets) expect(JSON.stringify(line)).not.toContain(secret);
      expect(line.req.url).toContain('page=2');
      expect(line.req.url).toContain('api_key=[redacted]');
      expect(service.output()).not.toContain(key);
    });
  });

  describe('status', () => {
    /** Sends the headers of a POST with a body of `length` bytes, and `sent` bytes of it. */
    function halfSent(requestId: string, length: number, sent: number): Promise<Socket> {
      return new Promise((resolve, reject) => {
        const { port } = new URL(service.url);
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write(
            `POST /v1/notifications HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
              `Authorization: Bearer ${ADMIN_KEY}\r\nContent-Type: application/json\r\n` +
              `Content-Length: ${length}\r\nX-Request-Id: ${requestId}\r\n\r\n` +
              `{"template":"${'x'.repeat(sent)}`,
          );
          resolve(socket);
        });
        socket.on('error', reject);
      });
    }

    it('logs a client that disconnects mid-body as aborted, not 200', async () => {
      const requestId = `aborted-${Date.now()}`;
      const socket = await halfSent(requestId, 1000, 100);
      // The service has the request (its headers) before the client goes away.
      await new Promise((resolve) => setTimeout(resolve, 200));
      socket.destroy();
      const line = await accessLine(requestId);
      expect(line.res.statusCode).not.toBe(200);
      expect(line.res.statusCode).toBeNull();
      expect(line.aborted).toBe(true);
      expect(line.level).toBe('warn');
      expect(line.msg).not.toMatch(/ 200 /);
      expect(line.msg).toMatch(/aborted/);
    });

    it('logs a request that never completes with the 408 the client was sent', async () => {
      const requestId = `slow-${Date.now()}`;
      const socket = await halfSent(requestId, 1000, 100);
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
      const closed = new Promise((resolve) => socket.on('close', resolve));
      await closed;
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      const line = await accessLine(requestId);
      expect(line.res.statusCode).toBe(408);
      expect(line.level).toBe('warn');
      expect(line.msg).toMatch(/^POST 408 /);
    });

    it('still logs a finished request with its own status', async () => {
      const res = await callApi(service.url, 'GET', '/v1/templates', {
        key: ADMIN_KEY,
        headers: { 'x-request-id': 'finished-1' },
      });
      expect(res.status).toBe(200);
      const line = await accessLine('finished-1');
      expect(line).toMatchObject({ level: 'info', res: { statusCode: 200 } });
      expect(line.aborted).toBeUndefined();
    });
  });
});
