import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { baseEnv, callApi, dropDatabase, waitFor } from '../tools/stack';
import { freePort } from './support/harness';
import { type ServiceProcess, spawnService } from './support/service-process';
import {
  databasePrefix,
  databaseUrl,
  PG_ADMIN_URL,
  REDIS_URL,
  redisPrefix,
} from './support/test-env';

const ROOT = join(__dirname, '..');

describe('The first admin key (e2e, a service started without ADMIN_API_KEY)', () => {
  const name = `${databasePrefix()}_first_key`;
  let service: ServiceProcess;
  let env: Record<string, string>;

  beforeAll(async () => {
    env = {
      PORT: String(await freePort()),
      DATABASE_URL: databaseUrl(name),
      REDIS_URL,
      QUEUE_PREFIX: `${redisPrefix()}-first-key`,
      APP_ROLE: 'api',
    };
    service = await spawnService(env);
  });

  afterAll(async () => {
    await service?.kill('SIGTERM');
    await dropDatabase(PG_ADMIN_URL, name);
  });

  it('warns with the command to run, which mints a key that works', async () => {
    const warning = await waitFor(
      () =>
        service
          .output()
          .split('\n')
          .find((l) => l.includes('No admin key')) ?? null,
      { what: 'the no-admin-key warning' },
    );
    expect(JSON.parse(warning)).toMatchObject({
      level: 'warn',
      msg: expect.stringContaining('npm run keys:create -- --team ops --scopes admin'),
    });
    expect(
      (await callApi(service.url, 'GET', '/v1/api-keys', { key: 'x'.repeat(20) })).status,
    ).toBe(401);

    const run = spawnSync(
      'npm',
      ['run', '--silent', 'keys:create', '--', '--team', 'ops', '--scopes', 'admin'],
      { cwd: ROOT, env: { ...baseEnv(), ...env }, encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const key = run.stdout.trim().split('\n').pop() ?? '';
    expect(key).toMatch(/^nk_/);

    const listed = await callApi<any[]>(service.url, 'GET', '/v1/api-keys', { key });
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([expect.objectContaining({ team: 'ops', scopes: ['admin'] })]);
  });

  it('refuses a scope that does not exist, saying how to call it', () => {
    const run = spawnSync(
      'npm',
      ['run', '--silent', 'keys:create', '--', '--team', 'ops', '--scopes', 'root'],
      { cwd: ROOT, env: { ...baseEnv(), ...env }, encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('usage: npm run keys:create -- --team ops --scopes admin');
  });
});
