import type { AppConfig } from './app-config';

/** The sandbox's well-known credentials: anyone can sign webhooks or call the provider with them. */
const SANDBOX_API_KEYS = new Set(['sk_test_sandbox', 'sk_test_e2e']);
const SANDBOX_WEBHOOK_SECRET = 'whsec_sandbox';
/** The admin key the README and docker-compose.yml publish for local use. */
const PUBLISHED_ADMIN_KEYS = new Set(['dev-admin-key-0123456789']);

/** What production start-up refuses: the variable and what is wrong with it. */
export interface ProductionRefusal {
  variable: string;
  problem: string;
}

/**
 * Settings a production instance refuses to start with (`NODE_ENV=production`), because anyone
 * who has read this repository holds them: with the sandbox's webhook secret any caller forges
 * delivery reports, with its key the provider is not the real one, with the published admin key
 * any caller is admin. A warning in a log nobody reads let such an instance serve for good.
 */
export function productionRefusals(settings: {
  nodeEnv: string;
  providerApiKey: string;
  webhookSecret: string;
  adminApiKey: string | undefined;
}): ProductionRefusal[] {
  if (settings.nodeEnv !== 'production') return [];
  const refusals: ProductionRefusal[] = [];
  const fix = 'or set NODE_ENV to something else to run against the sandbox';
  if (SANDBOX_API_KEYS.has(settings.providerApiKey)) {
    refusals.push({
      variable: 'SMS_PROVIDER_API_KEY',
      problem: `is the sandbox's published key, refused with NODE_ENV=production: set the provider account's key (${fix})`,
    });
  }
  if (settings.webhookSecret === SANDBOX_WEBHOOK_SECRET) {
    refusals.push({
      variable: 'SMS_PROVIDER_WEBHOOK_SECRET',
      problem: `is the sandbox's published secret, refused with NODE_ENV=production (anyone could forge delivery reports): set the secret the provider signs webhooks with (${fix})`,
    });
  }
  if (settings.adminApiKey !== undefined && PUBLISHED_ADMIN_KEYS.has(settings.adminApiKey)) {
    refusals.push({
      variable: 'ADMIN_API_KEY',
      problem:
        'is the development key the README publishes, refused with NODE_ENV=production: set a secret one (e.g. openssl rand -hex 32)',
    });
  }
  return refusals;
}

/** What start-up should warn about when `NODE_ENV=production` (and may still run with). */
export function productionWarnings(config: AppConfig): string[] {
  if (config.nodeEnv !== 'production') return [];
  const warnings: string[] = [];
  if (config.callbacks.addresses.allowLoopback) {
    warnings.push(
      'NODE_ENV=production with CALLBACK_ALLOW_LOOPBACK=true: callbacks can reach this host',
    );
  }
  return warnings;
}
