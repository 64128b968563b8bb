import { runMainUntilExit } from './support/service-process';

/**
 * The Docker image sets NODE_ENV=production; an operator who forgets the provider variables used
 * to get a running service that accepted webhooks signed with the sandbox's published secret,
 * with one warning line. Now it does not start.
 */
describe('Production refuses published credentials (e2e, the service as a process)', () => {
  it.each([
    [{}, 'SMS_PROVIDER_API_KEY'],
    [{ SMS_PROVIDER_API_KEY: 'sk_live_0123456789abcdef' }, 'SMS_PROVIDER_WEBHOOK_SECRET'],
  ])('stops at once on %j with one fatal line naming %s', (given, variable) => {
    // Nothing listens at these: a service that got past its configuration would hang or fail
    // later, with other lines.
    const run = runMainUntilExit({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      REDIS_URL: 'redis://127.0.0.1:1',
      ...given,
    });
    expect(run.signal).toBeNull();
    expect(run.status).toBe(1);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]) as { level: string; msg: string };
    expect(line.level).toBe('fatal');
    expect(line.msg).toMatch(
      new RegExp(
        `^Invalid configuration: ${variable} is the sandbox's published .*NODE_ENV=production`,
      ),
    );
    expect(run.stderr).toBe('');
  });
});
