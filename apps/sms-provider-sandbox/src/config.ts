import { PLAN_RATE_LIMITS, type ProviderPlan } from '@app/sms-provider';

export type SandboxLogLevel = 'silent' | 'error' | 'warn' | 'log' | 'debug';

/** Which routes `errorRate` and `failNext` hit: only POST /v1/messages, or every /v1 route. */
export type FaultScope = 'send' | 'all';

export interface SandboxAccountSeed {
  key: string;
  plan: ProviderPlan;
  credits: number;
}

export interface SandboxConfig {
  port: number;
  host: string;
  apiKeys: SandboxAccountSeed[];
  webhookSecret: string;
  sentDelayMs: number;
  deliveredDelayMs: number;
  errorRate: number;
  latencyMs: number;
  force429: boolean;
  faultScope: FaultScope;
  webhookMaxAttempts: number;
  webhookRetryBaseMs: number;
  webhookTimeoutMs: number;
  defaultSender: string;
  requestLogLimit: number;
  logLevel: SandboxLogLevel;
}

/**
 * What startSandbox() accepts: any field of SandboxConfig, and `apiKeys` also in the
 * SANDBOX_API_KEYS text form ("key:plan:credits,...") so tests can reuse the env syntax.
 */
export type SandboxOverrides = Partial<Omit<SandboxConfig, 'apiKeys'>> & {
  apiKeys?: SandboxAccountSeed[] | string;
};

export const SANDBOX_CONFIG = Symbol('SANDBOX_CONFIG');

const LOG_LEVELS: readonly SandboxLogLevel[] = ['silent', 'error', 'warn', 'log', 'debug'];
const FAULT_SCOPES: readonly FaultScope[] = ['send', 'all'];
const PLANS = Object.keys(PLAN_RATE_LIMITS) as ProviderPlan[];

export const DEFAULT_SANDBOX_CONFIG: Readonly<SandboxConfig> = {
  port: 4010,
  host: '127.0.0.1',
  apiKeys: [{ key: 'sk_test_sandbox', plan: 'standard', credits: 100_000 }],
  webhookSecret: 'whsec_sandbox',
  sentDelayMs: 300,
  deliveredDelayMs: 1000,
  errorRate: 0,
  latencyMs: 0,
  force429: false,
  faultScope: 'send',
  webhookMaxAttempts: 5,
  webhookRetryBaseMs: 500,
  webhookTimeoutMs: 5000,
  defaultSender: 'SANDBOX',
  requestLogLimit: 100_000,
  logLevel: 'log',
};

/** Which environment variable feeds which field, so every error names both. */
const ENV_NAMES: Readonly<Record<keyof SandboxConfig, string>> = {
  port: 'SANDBOX_PORT',
  host: 'SANDBOX_HOST',
  apiKeys: 'SANDBOX_API_KEYS',
  webhookSecret: 'SANDBOX_WEBHOOK_SECRET',
  sentDelayMs: 'SANDBOX_SENT_DELAY_MS',
  deliveredDelayMs: 'SANDBOX_DELIVERED_DELAY_MS',
  errorRate: 'SANDBOX_ERROR_RATE',
  latencyMs: 'SANDBOX_LATENCY_MS',
  force429: 'SANDBOX_FORCE_429',
  faultScope: 'SANDBOX_FAULT_SCOPE',
  webhookMaxAttempts: 'SANDBOX_WEBHOOK_MAX_ATTEMPTS',
  webhookRetryBaseMs: 'SANDBOX_WEBHOOK_RETRY_BASE_MS',
  webhookTimeoutMs: 'SANDBOX_WEBHOOK_TIMEOUT_MS',
  defaultSender: 'SANDBOX_DEFAULT_SENDER',
  requestLogLimit: 'SANDBOX_REQUEST_LOG_LIMIT',
  logLevel: 'SANDBOX_LOG_LEVEL',
};

export class SandboxConfigError extends Error {
  constructor(field: keyof SandboxConfig, problem: string) {
    super(`Invalid sandbox configuration: ${ENV_NAMES[field]} (${field}) ${problem}`);
    this.name = 'SandboxConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function parseNumber(field: keyof SandboxConfig, raw: string): number {
  const text = raw.trim();
  // Number('') is 0 and Number('0x10') is 16; neither is what someone typing a config value means.
  if (!/^-?(\d+(\.\d*)?|\.\d+)$/.test(text)) {
    throw new SandboxConfigError(field, `must be a number, got "${raw}"`);
  }
  return Number(text);
}

function parseBoolean(field: keyof SandboxConfig, raw: string): boolean {
  const text = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(text)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(text)) return false;
  throw new SandboxConfigError(field, `must be true or false, got "${raw}"`);
}

function parseApiKeys(raw: string): SandboxAccountSeed[] {
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
    .map((entry, index) => {
      const [key = '', plan = '', credits = '', ...rest] = entry.split(':').map((p) => p.trim());
      // The entry is quoted by position, never by content: it holds a secret.
      const where = `entry ${index + 1}`;
      if (rest.length > 0 || !key || !plan || !credits) {
        throw new SandboxConfigError('apiKeys', `${where} must look like key:plan:credits`);
      }
      if (!/^\d+$/.test(credits)) {
        throw new SandboxConfigError('apiKeys', `${where} has non-integer credits`);
      }
      return { key, plan: plan as ProviderPlan, credits: Number(credits) };
    });
}

/** Reads the SANDBOX_* variables of `env`; unset or empty variables are left to the defaults. */
export function loadSandboxConfig(env: Env): Partial<SandboxConfig> {
  const partial: Partial<SandboxConfig> = {};
  const read = (field: keyof SandboxConfig): string | undefined => {
    const value = env[ENV_NAMES[field]];
    return value === undefined || value.trim() === '' ? undefined : value;
  };
  const numberFields = [
    'port',
    'sentDelayMs',
    'deliveredDelayMs',
    'errorRate',
    'latencyMs',
    'webhookMaxAttempts',
    'webhookRetryBaseMs',
    'webhookTimeoutMs',
    'requestLogLimit',
  ] as const;
  for (const field of numberFields) {
    const raw = read(field);
    if (raw !== undefined) partial[field] = parseNumber(field, raw);
  }
  const force429 = read('force429');
  if (force429 !== undefined) partial.force429 = parseBoolean('force429', force429);
  const apiKeys = read('apiKeys');
  if (apiKeys !== undefined) partial.apiKeys = parseApiKeys(apiKeys);
  const host = read('host');
  if (host !== undefined) partial.host = host.trim();
  const secret = read('webhookSecret');
  if (secret !== undefined) partial.webhookSecret = secret;
  const sender = read('defaultSender');
  if (sender !== undefined) partial.defaultSender = sender.trim();
  const scope = read('faultScope');
  if (scope !== undefined) partial.faultScope = scope.trim().toLowerCase() as FaultScope;
  const level = read('logLevel');
  if (level !== undefined) partial.logLevel = level.trim().toLowerCase() as SandboxLogLevel;
  return partial;
}

function checkInteger(config: SandboxConfig, field: keyof SandboxConfig, min: number, max: number) {
  const value = config[field];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new SandboxConfigError(
      field,
      `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
}

/**
 * Defaults overlaid with `overrides`, checked as a whole. Overrides from code (tests) pass the same
 * checks as values from the environment, so a typo fails loudly in both.
 */
export function resolveSandboxConfig(overrides: SandboxOverrides = {}): SandboxConfig {
  const { apiKeys, ...rest } = Object.fromEntries(
    Object.entries(overrides).filter(([, value]) => value !== undefined),
  ) as SandboxOverrides;
  const seeds = typeof apiKeys === 'string' ? parseApiKeys(apiKeys) : apiKeys;
  const config: SandboxConfig = {
    ...DEFAULT_SANDBOX_CONFIG,
    ...rest,
    apiKeys: (seeds ?? DEFAULT_SANDBOX_CONFIG.apiKeys).map((seed) => ({ ...seed })),
  };

  const day = 86_400_000;
  checkInteger(config, 'port', 0, 65_535);
  checkInteger(config, 'sentDelayMs', 0, day);
  checkInteger(config, 'deliveredDelayMs', 0, day);
  checkInteger(config, 'latencyMs', 0, 60_000);
  checkInteger(config, 'webhookMaxAttempts', 1, 100);
  checkInteger(config, 'webhookRetryBaseMs', 0, day);
  checkInteger(config, 'webhookTimeoutMs', 1, 600_000);
  checkInteger(config, 'requestLogLimit', 1, 10_000_000);
  if (!(config.errorRate >= 0 && config.errorRate <= 1)) {
    throw new SandboxConfigError(
      'errorRate',
      `must be a number from 0 to 1, got ${String(config.errorRate)}`,
    );
  }
  if (typeof config.force429 !== 'boolean') {
    throw new SandboxConfigError('force429', 'must be a boolean');
  }
  if (!FAULT_SCOPES.includes(config.faultScope)) {
    throw new SandboxConfigError('faultScope', `must be one of ${FAULT_SCOPES.join(', ')}`);
  }
  if (!LOG_LEVELS.includes(config.logLevel)) {
    throw new SandboxConfigError('logLevel', `must be one of ${LOG_LEVELS.join(', ')}`);
  }
  if (!config.host) throw new SandboxConfigError('host', 'must not be empty');
  if (!config.webhookSecret) throw new SandboxConfigError('webhookSecret', 'must not be empty');
  if (!config.defaultSender) throw new SandboxConfigError('defaultSender', 'must not be empty');
  if (config.apiKeys.length === 0) {
    throw new SandboxConfigError('apiKeys', 'must list at least one key:plan:credits');
  }
  const seen = new Set<string>();
  config.apiKeys.forEach((seed, index) => {
    const where = `entry ${index + 1}`;
    if (!seed.key || /[\s:,]/.test(seed.key)) {
      throw new SandboxConfigError(
        'apiKeys',
        `${where} has an empty key or one with : , or spaces`,
      );
    }
    if (!PLANS.includes(seed.plan)) {
      throw new SandboxConfigError(
        'apiKeys',
        `${where} has plan "${seed.plan}"; use ${PLANS.join(' or ')}`,
      );
    }
    if (!Number.isSafeInteger(seed.credits) || seed.credits < 0) {
      throw new SandboxConfigError(
        'apiKeys',
        `${where} must have a non-negative integer of credits`,
      );
    }
    if (seen.has(seed.key)) throw new SandboxConfigError('apiKeys', `${where} repeats a key`);
    seen.add(seed.key);
  });
  return config;
}
