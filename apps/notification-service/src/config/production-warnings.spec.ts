import { ConfigError, loadConfig } from './load-config';
import { productionRefusals, productionWarnings } from './production-warnings';

const REAL = {
  SMS_PROVIDER_API_KEY: 'sk_live_abc',
  SMS_PROVIDER_WEBHOOK_SECRET: 'whsec_real',
};

describe('production start-up with published credentials', () => {
  it.each([
    [{}, 'SMS_PROVIDER_API_KEY'],
    [{ SMS_PROVIDER_API_KEY: 'sk_test_e2e' }, 'SMS_PROVIDER_API_KEY'],
    [{ SMS_PROVIDER_API_KEY: 'sk_live_abc' }, 'SMS_PROVIDER_WEBHOOK_SECRET'],
    [{ ...REAL, ADMIN_API_KEY: 'dev-admin-key-0123456789' }, 'ADMIN_API_KEY'],
  ])('refuses %j, naming %s and what to do', (env, variable) => {
    const load = () => loadConfig({ ...env, NODE_ENV: 'production' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(`Invalid configuration: ${variable} is the`);
    expect(load).toThrow(/NODE_ENV=production/);
  });

  it('lists every published credential at once', () => {
    expect(
      productionRefusals({
        nodeEnv: 'production',
        providerApiKey: 'sk_test_sandbox',
        webhookSecret: 'whsec_sandbox',
        adminApiKey: 'dev-admin-key-0123456789',
      }).map((r) => r.variable),
    ).toEqual(['SMS_PROVIDER_API_KEY', 'SMS_PROVIDER_WEBHOOK_SECRET', 'ADMIN_API_KEY']);
  });

  it('starts with real credentials in production, and with the sandbox’s outside it', () => {
    expect(() => loadConfig({ ...REAL, NODE_ENV: 'production' })).not.toThrow();
    expect(() => loadConfig({ ADMIN_API_KEY: 'dev-admin-key-0123456789' })).not.toThrow();
    expect(() => loadConfig({ NODE_ENV: 'development' })).not.toThrow();
  });
});

describe(productionWarnings.name, () => {
  it('warns in production about callbacks allowed to loopback', () => {
    const config = loadConfig({ ...REAL, NODE_ENV: 'production', CALLBACK_ALLOW_LOOPBACK: 'true' });
    expect(productionWarnings(config)).toEqual([
      expect.stringContaining('CALLBACK_ALLOW_LOOPBACK'),
    ]);
  });

  it('says nothing outside production or with safe settings', () => {
    expect(productionWarnings(loadConfig({ CALLBACK_ALLOW_LOOPBACK: 'true' }))).toEqual([]);
    expect(productionWarnings(loadConfig({ ...REAL, NODE_ENV: 'production' }))).toEqual([]);
  });
});
