import { ConfigError, loadConfig } from './load-config';

describe(loadConfig.name, () => {
  it('runs locally with no environment at all (SPEC defaults)', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/notifications',
      redisUrl: 'redis://127.0.0.1:6379',
      queuePrefix: 'notify',
      appRole: 'all',
      publicBaseUrl: 'http://127.0.0.1:3000',
      adminApiKey: null,
      provider: {
        baseUrl: 'http://127.0.0.1:4010/v1',
        apiKey: 'sk_test_sandbox',
        plan: 'standard',
        webhookSecret: 'whsec_sandbox',
      },
    });
    expect(config.rateLimitPerSecond).toBe(10);
  });

  it('derives the plan rate and the default public URL from other settings', () => {
    const config = loadConfig({ SMS_PROVIDER_PLAN: 'enterprise', PORT: '8080' });
    expect(config.rateLimitPerSecond).toBe(50);
    expect(config.publicBaseUrl).toBe('http://127.0.0.1:8080');
    expect(config.sending.concurrency).toBe(30);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://x/y'],
    ['REDIS_URL', 'not a url'],
    ['SMS_PROVIDER_PLAN', 'gold'],
    ['APP_ROLE', 'both'],
    ['ADMIN_API_KEY', 'short'],
    ['QUEUE_PREFIX', 'has spaces'],
    ['SMS_PROVIDER_REGISTER_WEBHOOK', 'maybe'],
    ['THROTTLE_SAFETY_FACTOR', '1.5'],
    ['THROTTLE_COLD_CALL_MS', '-1'],
  ])('stops on a bad %s with one line naming it', (variable, value) => {
    let error: unknown;
    try {
      loadConfig({ [variable]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain(variable);
    expect(message).not.toContain('\n');
  });

  it('refuses a claim timeout that a live worker could outlast', () => {
    expect(() =>
      loadConfig({ SMS_PROVIDER_TIMEOUT_MS: '20000', SEND_CLAIM_TIMEOUT_MS: '10000' }),
    ).toThrow('SEND_CLAIM_TIMEOUT_MS');
  });
});
