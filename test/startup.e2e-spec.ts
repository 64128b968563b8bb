import { Client } from 'pg';
import { MIGRATIONS } from '../apps/notification-service/src/database/entities';
import { freePort } from './support/harness';
import { runMainUntilExit, spawnService } from './support/service-process';
import { databasePrefix, databaseUrl, REDIS_URL, redisPrefix } from './support/test-env';

describe('Service start-up (e2e)', () => {
  it('stops on a bad setting with one JSON line naming the variable', () => {
    const run = runMainUntilExit({ SMS_PROVIDER_PLAN: 'gold' });
    expect(run.status).toBe(1);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({
      level: 'fatal',
      msg: 'Invalid configuration: SMS_PROVIDER_PLAN must be one of standard, enterprise, got "gold"',
    });
    expect(run.stderr).toBe('');
  });

  it('creates its database when missing and runs the migrations before answering', async () => {
    const name = `${databasePrefix()}_fresh`;
    const port = await freePort();
    const service = await spawnService({
      PORT: String(port),
      DATABASE_URL: databaseUrl(name),
      REDIS_URL,
      QUEUE_PREFIX: `${redisPrefix()}-startup`,
      LOG_LEVEL: 'error',
    });
    try {
      const db = new Client({ connectionString: databaseUrl(name) });
      await db.connect();
      const { rows } = await db.query<{ name: string }>(`SELECT name FROM migrations ORDER BY id`);
      await db.end();
      // Every migration the service ships, in order (class names are the migration names).
      expect(rows.map((r) => r.name)).toEqual(MIGRATIONS.map((m) => m.name));
      expect(rows[0]?.name).toBe('InitialSchema1764000000000');
    } finally {
      await service.kill('SIGTERM');
    }
  });
});
