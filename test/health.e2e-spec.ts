import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callApi, type OwnRedis, startRedisServer } from '../tools/stack';
import { freePort, type Harness, startHarness, waitFor } from './support/harness';
import { type ServiceProcess, spawnService } from './support/service-process';

describe('Health (e2e, a service whose Redis goes away)', () => {
  let h: Harness;
  let redis: OwnRedis;
  let service: ServiceProcess;
  let dir: string;

  beforeAll(async () => {
    h = await startHarness({ env: { APP_ROLE: 'api' } });
    // Its own Redis: this one is stopped, the shared one never is.
    redis = await startRedisServer();
    dir = mkdtempSync(join(tmpdir(), 'notify-health-'));
    service = await spawnService(
      { ...h.env, PORT: String(await freePort()), REDIS_URL: redis.url, LOG_LEVEL: 'info' },
      { logPath: join(dir, 'service.log') },
    );
  });

  afterAll(async () => {
    await service?.kill('SIGTERM');
    await redis?.stop();
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers live and ready, and /health as an alias of ready', async () => {
    expect((await callApi(service.url, 'GET', '/health/live')).body).toEqual({ status: 'ok' });
    const ready = await callApi(service.url, 'GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({
      status: 'ok',
      info: { database: { status: 'up' }, redis: { status: 'up' } },
    });
    expect((await callApi(service.url, 'GET', '/health')).body).toEqual(ready.body);
  });

  it('is not ready while Redis is down, names it, and stays live without stack traces', async () => {
    await redis.stop();
    const down = await waitFor(
      async () => {
        const res = await callApi<any>(service.url, 'GET', '/health/ready');
        return res.status === 503 ? res : null;
      },
      { what: 'readiness to report Redis down' },
    );
    expect(down.body).toMatchObject({
      success: false,
      error: {
        code: 'not_ready',
        message: expect.stringMatching(/^Not ready: redis \(.+\) down$/),
        details: { database: { status: 'up' }, redis: { status: 'down' } },
      },
    });
    expect((await callApi(service.url, 'GET', '/health/live')).status).toBe(200);

    // Once per outage, as JSON, whatever the number of reconnect attempts.
    await waitFor(() => /"msg":"Redis connection lost/.test(service.output()), {
      what: 'the connection-lost line',
    });
    const log = service.output();
    expect(log.match(/Redis connection lost/g)).toHaveLength(1);
    expect(log).not.toContain('Unhandled error event');
    for (const line of log.split('\n').filter((l) => l.trim() !== '')) {
      expect(() => JSON.parse(line) as unknown).not.toThrow();
    }
  });
});
