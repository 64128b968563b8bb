import { loadConfig } from './load-config';
import { productionWarnings } from './production-warnings';

const BASE: Record<string, string> = {};

describe(productionWarnings.name, () => {
  it('warns in production about the sandbox key and webhook secret', () => {
    const warnings = productionWarnings(loadConfig({ ...BASE, NODE_ENV: 'production' }));
    expect(warnings).toEqual([
      expect.stringContaining('SMS_PROVIDER_API_KEY'),
      expect.stringContaining('SMS_PROVIDER_WEBHOOK_SECRET'),
    ]);
  });

  it('says nothing outside production or with real secrets', () => {
    expect(productionWarnings(loadConfig({ ...BASE }))).toEqual([]);
    expect(
      productionWarnings(
        loadConfig({
          ...BASE,
          NODE_ENV: 'production',
          SMS_PROVIDER_API_KEY: 'sk_live_abc',
          SMS_PROVIDER_WEBHOOK_SECRET: 'whsec_real',
        }),
      ),
    ).toEqual([]);
  });
});
