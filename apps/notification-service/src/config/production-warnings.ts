import type { AppConfig } from './app-config';

/** The sandbox's well-known credentials: anyone can sign webhooks or call the provider with them. */
const SANDBOX_API_KEYS = new Set(['sk_test_sandbox', 'sk_test_e2e']);
const SANDBOX_WEBHOOK_SECRET = 'whsec_sandbox';

/** What start-up should warn about when `NODE_ENV=production`; empty otherwise. */
export function productionWarnings(config: AppConfig): string[] {
  if (config.nodeEnv !== 'production') return [];
  const warnings: string[] = [];
  if (SANDBOX_API_KEYS.has(config.provider.apiKey)) {
    warnings.push(
      'NODE_ENV=production but SMS_PROVIDER_API_KEY is the sandbox default: set the real provider key',
    );
  }
  if (config.provider.webhookSecret === SANDBOX_WEBHOOK_SECRET) {
    warnings.push(
      'NODE_ENV=production but SMS_PROVIDER_WEBHOOK_SECRET is the sandbox default: anyone can forge delivery reports; set the secret the provider signs with',
    );
  }
  if (config.callbacks.addresses.allowLoopback) {
    warnings.push(
      'NODE_ENV=production with CALLBACK_ALLOW_LOOPBACK=true: callbacks can reach this host',
    );
  }
  return warnings;
}
