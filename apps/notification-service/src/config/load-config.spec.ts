import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig } from './app-config';
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
        accounts: [
          {
            name: 'default',
            baseUrl: 'http://127.0.0.1:4010/v1',
            apiKey: 'sk_test_sandbox',
            plan: 'standard',
            webhookSecret: 'whsec_sandbox',
            categories: null,
            teams: null,
          },
        ],
      },
    });
    expect(config.rateLimitPerSecond).toBe(10);
    // One account from today's variables: webhooks keep arriving where they always did.
    expect(config.callbackUrl('default')).toBe('http://127.0.0.1:3000/v1/webhooks/sms-provider');
  });

  it('turns a per-number cap and quiet hours off with 0 and off, and keeps the defaults when unset', () => {
    const off = loadConfig({
      RECIPIENT_CAP_OTP: '0',
      RECIPIENT_CAP_MARKETING: 'off',
      QUIET_HOURS_MARKETING: 'off',
    });
    expect(off.protection.caps).toEqual({
      otp: null,
      transactional: { limit: 30, windowMs: 3_600_000 },
      marketing: null,
    });
    expect(off.protection.quietHours.marketing).toBeNull();
    const defaults = loadConfig({});
    expect(defaults.protection.caps.otp).toEqual({ limit: 5, windowMs: 3_600_000 });
    expect(defaults.protection.quietHours.marketing).toEqual({ startMinute: 1260, endMinute: 480 });
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
    ['REDIS_URL', 'redis+cluster://a:7000,b:port'],
    ['SMS_PROVIDER_PLAN', 'gold'],
    ['APP_ROLE', 'both'],
    ['ADMIN_API_KEY', 'short'],
    ['QUEUE_PREFIX', 'has spaces'],
    ['SMS_PROVIDER_REGISTER_WEBHOOK', 'maybe'],
    ['THROTTLE_SAFETY_FACTOR', '1.5'],
    ['TRUST_PROXY', 'true'],
    ['TRUST_PROXY', '33'],
    ['TRUST_PROXY', '10.0.0.0/8,proxy.example'],
    ['HTTP_REQUEST_TIMEOUT_MS', '500'],
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

  it.each([
    ['', false],
    ['false', false],
    ['0', false],
    ['1', 1],
    ['2', 2],
    ['10.0.0.0/8, 192.168.1.7', ['10.0.0.0/8', '192.168.1.7']],
    ['loopback,fd00::/8', ['loopback', 'fd00::/8']],
  ])('reads TRUST_PROXY=%j as %j (never "trust everything")', (value, expected) => {
    expect(loadConfig({ TRUST_PROXY: value }).trustProxy).toEqual(expected);
  });

  it('refuses TRUST_PROXY=true with what to write instead', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(/number of proxies.*CIDRs/);
  });

  it('gives the HTTP server timeouts and connection caps by default', () => {
    expect(loadConfig({}).http).toEqual({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 65_000,
      maxConnectionsPerAddress: 128,
      maxConnections: 4096,
    });
    expect(() =>
      loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' }),
    ).toThrow(/HTTP_REQUEST_TIMEOUT_MS must be at least HTTP_HEADERS_TIMEOUT_MS/);
  });

  it('takes a Redis Cluster in REDIS_URL', () => {
    const config = loadConfig({ REDIS_URL: 'rediss+cluster://:pw@10.0.0.1:7000,10.0.0.2:7001' });
    expect(config.redis).toEqual({
      kind: 'cluster',
      url: 'rediss+cluster://:pw@10.0.0.1:7000,10.0.0.2:7001',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
      ],
      password: 'pw',
      tls: true,
    });
    expect(loadConfig({}).redis).toEqual({ kind: 'standalone', url: 'redis://127.0.0.1:6379' });
  });

  it('refuses a claim timeout that a live worker could outlast', () => {
    expect(() =>
      loadConfig({ SMS_PROVIDER_TIMEOUT_MS: '20000', SEND_CLAIM_TIMEOUT_MS: '10000' }),
    ).toThrow('SEND_CLAIM_TIMEOUT_MS');
  });

  it('takes a blank value for the default, trims values and drops trailing slashes', () => {
    const config = loadConfig({
      PORT: ' ',
      QUEUE_PREFIX: ' jobs ',
      ADMIN_API_KEY: '',
      SMS_PROVIDER_BASE_URL: 'https://provider.example/v1//',
      SMS_PROVIDER_REGISTER_WEBHOOK: 'YES',
      THROTTLE_SAFETY_FACTOR: '0.9',
    });
    expect(config).toBeInstanceOf(AppConfig);
    expect(config).toMatchObject({
      port: 3000,
      queuePrefix: 'jobs',
      adminApiKey: null,
      provider: {
        accounts: [expect.objectContaining({ baseUrl: 'https://provider.example/v1' })],
        registerWebhook: true,
      },
      sending: { throttleSafetyFactor: 0.9, concurrency: 6 },
    });
  });

  it.each([
    [{ PORT: '70000' }, 'PORT must be between 0 and 65535, got 70000'],
    [{ PORT: 'eighty' }, 'PORT must be an integer, got "eighty"'],
    [{ DATABASE_URL: 'mysql://x/y' }, 'DATABASE_URL must use postgres: or postgresql:'],
    [{ REDIS_URL: 'not a url' }, 'REDIS_URL must be a URL'],
    [
      { REDIS_URL: 'redis+cluster://a:7000,b:port' },
      'REDIS_URL must list cluster nodes as host:port, got "b:port"',
    ],
    [
      { REDIS_URL: 'redis+cluster://a:7000/1' },
      'REDIS_URL must not name a database, path or query with redis+cluster://',
    ],
    [{ APP_ROLE: 'both' }, 'APP_ROLE must be one of api, worker, all, got "both"'],
    [
      { THROTTLE_SAFETY_FACTOR: '1.5' },
      'THROTTLE_SAFETY_FACTOR must be a number between 0.5 and 1, got "1.5"',
    ],
    [
      { WORKER_LEASE_TTL_MS: '2000', WORKER_HEARTBEAT_MS: '1001' },
      'WORKER_HEARTBEAT_MS must be at most half of WORKER_LEASE_TTL_MS',
    ],
  ])('says what is wrong with %p', (env, problem) => {
    expect(() => loadConfig(env)).toThrow(`Invalid configuration: ${problem}`);
  });

  describe('SMS_PROVIDER_ACCOUNTS', () => {
    const otp = {
      name: 'otp-route',
      base_url: 'https://otp.example/v1/',
      api_key: 'sk_live_otp',
      plan: 'enterprise',
      webhook_secret: 'whsec_otp',
      categories: ['otp'],
    };
    const main = {
      name: 'main',
      base_url: 'https://main.example/v1',
      api_key: 'sk_live_main',
      plan: 'standard',
      webhook_secret: 'whsec_main',
    };

    it('takes the accounts in order, each with its own webhook path; the plans add up', () => {
      const config = loadConfig({ SMS_PROVIDER_ACCOUNTS: JSON.stringify([otp, main]) });
      expect(config.provider.accounts).toEqual([
        {
          name: 'otp-route',
          baseUrl: 'https://otp.example/v1',
          apiKey: 'sk_live_otp',
          plan: 'enterprise',
          webhookSecret: 'whsec_otp',
          categories: ['otp'],
          teams: null,
        },
        expect.objectContaining({ name: 'main', categories: null, teams: null }),
      ]);
      expect(config.rateLimitPerSecond).toBe(60);
      // No account is named default: the old path is the first account's.
      expect(config.callbackUrl('otp-route')).toBe(
        'http://127.0.0.1:3000/v1/webhooks/sms-provider',
      );
      expect(config.callbackUrl('main')).toBe('http://127.0.0.1:3000/v1/webhooks/provider/main');
    });

    it('reads a file when the value is a path', () => {
      const file = join(mkdtempSync(join(tmpdir(), 'accounts-')), 'accounts.json');
      writeFileSync(file, JSON.stringify([main]));
      expect(loadConfig({ SMS_PROVIDER_ACCOUNTS: file }).provider.accounts[0].name).toBe('main');
    });

    it.each([
      ['[', 'SMS_PROVIDER_ACCOUNTS is not valid JSON'],
      [
        '/nonexistent/accounts.json',
        'SMS_PROVIDER_ACCOUNTS is neither a JSON array nor a readable file (ENOENT)',
      ],
      ['[]', 'SMS_PROVIDER_ACCOUNTS must hold at least one account'],
      [[{ ...main, api_key: ' ' }], 'SMS_PROVIDER_ACCOUNTS [0].api_key must not be empty'],
      [
        [{ ...main, plan: 'gold' }],
        'SMS_PROVIDER_ACCOUNTS [0].plan must be standard or enterprise',
      ],
      [
        [main, { ...main, base_url: 'ftp://x' }],
        'SMS_PROVIDER_ACCOUNTS [1].base_url must use http: or https:',
      ],
      [[main, { ...main }], 'SMS_PROVIDER_ACCOUNTS [1].name is used twice'],
      [[{ ...main, name: 'Main Account' }], 'SMS_PROVIDER_ACCOUNTS [0].name must be 1-32 of a-z'],
      [
        [{ ...main, categories: ['sms'] }],
        'SMS_PROVIDER_ACCOUNTS [0].categories[0] must be otp, transactional, marketing',
      ],
      [[{ ...main, region: 'eu' }], 'SMS_PROVIDER_ACCOUNTS [0] Unrecognized key: "region"'],
      [[otp], "SMS_PROVIDER_ACCOUNTS has no account for every team's transactional messages"],
      [
        [{ ...main, teams: ['checkout'] }],
        "SMS_PROVIDER_ACCOUNTS has no account for every team's otp messages",
      ],
    ])('says what is wrong with %j', (value, problem) => {
      const raw = typeof value === 'string' ? value : JSON.stringify(value);
      expect(() => loadConfig({ SMS_PROVIDER_ACCOUNTS: raw })).toThrow(
        `Invalid configuration: ${problem}`,
      );
    });

    it('never repeats a secret in its complaint', () => {
      const raw = JSON.stringify([{ ...main, plan: 'gold' }]);
      expect(() => loadConfig({ SMS_PROVIDER_ACCOUNTS: raw })).not.toThrow(
        /sk_live_main|whsec_main/,
      );
    });

    it("refuses the sandbox's published credentials in an account in production", () => {
      const raw = JSON.stringify([{ ...main, api_key: 'sk_test_sandbox' }]);
      expect(() =>
        loadConfig({
          NODE_ENV: 'production',
          ADMIN_API_KEY: 'a'.repeat(32),
          SMS_PROVIDER_ACCOUNTS: raw,
        }),
      ).toThrow(
        "Invalid configuration: SMS_PROVIDER_ACCOUNTS [0].api_key is the sandbox's published key",
      );
    });
  });
});
