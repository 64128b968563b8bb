import { AppConfig, type AppRole, PROVIDER_WEBHOOK_PATH } from './app-config';

export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string, fallback: string): string {
  const value = env[name];
  return value === undefined || value.trim() === '' ? fallback : value.trim();
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) {
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

function num(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(name, `must be a number between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = raw.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(value)) return true;
  if (['false', '0', 'no'].includes(value)) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

function url(env: Env, name: string, fallback: string, protocols: string[]): string {
  const value = str(env, name, fallback);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(name, 'must be a URL');
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must use ${protocols.join(' or ')}`);
  }
  return value.replace(/\/+$/, '');
}

function oneOf<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const value = str(env, name, fallback);
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${value}"`);
  }
  return value as T;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Reads and validates the environment; throws a ConfigError naming the first bad variable. */
export function loadConfig(env: Env): AppConfig {
  const config = new AppConfig();
  config.port = int(env, 'PORT', 3000, 0, 65535);
  config.databaseUrl = url(
    env,
    'DATABASE_URL',
    'postgres://postgres@127.0.0.1:5432/notifications',
    ['postgres:', 'postgresql:'],
  );
  config.redisUrl = url(env, 'REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']);
  config.queuePrefix = str(env, 'QUEUE_PREFIX', 'notify');
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(config.queuePrefix)) {
    throw new ConfigError('QUEUE_PREFIX', 'must be 1-64 letters, digits or _ . : -');
  }
  config.appRole = oneOf<AppRole>(env, 'APP_ROLE', 'all', ['api', 'worker', 'all']);
  config.publicBaseUrl = url(env, 'PUBLIC_BASE_URL', `http://127.0.0.1:${config.port}`, [
    'http:',
    'https:',
  ]);
  const adminKey = env.ADMIN_API_KEY?.trim();
  if (adminKey !== undefined && adminKey !== '' && adminKey.length < 16) {
    throw new ConfigError('ADMIN_API_KEY', 'must be at least 16 characters');
  }
  config.adminApiKey = adminKey ? adminKey : null;
  config.logLevel = oneOf(env, 'LOG_LEVEL', 'info', [
    'fatal',
    'error',
    'warn',
    'info',
    'debug',
    'trace',
    'silent',
  ]);

  const apiKey = str(env, 'SMS_PROVIDER_API_KEY', 'sk_test_sandbox');
  const webhookSecret = str(env, 'SMS_PROVIDER_WEBHOOK_SECRET', 'whsec_sandbox');
  config.provider = {
    baseUrl: url(env, 'SMS_PROVIDER_BASE_URL', 'http://127.0.0.1:4010/v1', ['http:', 'https:']),
    apiKey,
    plan: oneOf(env, 'SMS_PROVIDER_PLAN', 'standard', ['standard', 'enterprise']),
    webhookSecret,
    timeoutMs: int(env, 'SMS_PROVIDER_TIMEOUT_MS', 10 * SECOND, 100, 5 * MINUTE),
    registerWebhook: bool(env, 'SMS_PROVIDER_REGISTER_WEBHOOK', false),
    callbackUrl: `${config.publicBaseUrl}${PROVIDER_WEBHOOK_PATH}`,
  };

  const plannedRate = config.rateLimitPerSecond;
  config.sending = {
    // Enough in flight to use the whole budget at ~200 ms provider latency, few enough that a
    // high-priority job fetched later is not stuck behind many reserved slots.
    concurrency: int(env, 'SEND_CONCURRENCY', Math.max(4, Math.ceil(plannedRate * 0.6)), 1, 500),
    maxAttempts: int(env, 'SEND_MAX_ATTEMPTS', 6, 1, 50),
    retryBaseMs: int(env, 'SEND_RETRY_BASE_MS', 2 * SECOND, 1, HOUR),
    retryMaxMs: int(env, 'SEND_RETRY_MAX_MS', 5 * MINUTE, 1, 24 * HOUR),
    claimTimeoutMs: int(env, 'SEND_CLAIM_TIMEOUT_MS', 2 * MINUTE, 1 * SECOND, HOUR),
    throttleSafetyFactor: num(env, 'THROTTLE_SAFETY_FACTOR', 0.98, 0.5, 1),
    throttleColdCallMs: int(env, 'THROTTLE_COLD_CALL_MS', 100, 0, 10 * SECOND),
    leaseTtlMs: int(env, 'WORKER_LEASE_TTL_MS', 3 * SECOND, 1 * SECOND, MINUTE),
    heartbeatMs: int(env, 'WORKER_HEARTBEAT_MS', 1 * SECOND, 100, 30 * SECOND),
  };
  if (config.sending.heartbeatMs * 2 > config.sending.leaseTtlMs) {
    throw new ConfigError('WORKER_HEARTBEAT_MS', 'must be at most half of WORKER_LEASE_TTL_MS');
  }
  if (config.sending.claimTimeoutMs <= config.provider.timeoutMs) {
    throw new ConfigError('SEND_CLAIM_TIMEOUT_MS', 'must be longer than SMS_PROVIDER_TIMEOUT_MS');
  }

  config.schedule = {
    sweepIntervalMs: int(env, 'SWEEP_INTERVAL_MS', 5 * SECOND, 100, HOUR),
    creditsCheckIntervalMs: int(env, 'CREDITS_CHECK_INTERVAL_MS', 30 * SECOND, 100, HOUR),
    scheduleLookaheadMs: int(env, 'SCHEDULE_LOOKAHEAD_MS', 60 * SECOND, 1 * SECOND, HOUR),
  };

  config.reconcile = {
    intervalMs: int(env, 'RECONCILE_INTERVAL_MS', 30 * SECOND, 100, HOUR),
    staleAfterMs: int(env, 'RECONCILE_STALE_AFTER_MS', 5 * MINUTE, 100, 7 * 24 * HOUR),
    maxAgeMs: int(env, 'RECONCILE_MAX_AGE_MS', 72 * HOUR, 1 * SECOND, 30 * 24 * HOUR),
    batchSize: int(env, 'RECONCILE_BATCH_SIZE', 100, 1, 10_000),
  };

  config.callbacks = {
    maxAttempts: int(env, 'CALLBACK_MAX_ATTEMPTS', 8, 1, 50),
    retryBaseMs: int(env, 'CALLBACK_RETRY_BASE_MS', 5 * SECOND, 1, HOUR),
    timeoutMs: int(env, 'CALLBACK_TIMEOUT_MS', 5 * SECOND, 100, MINUTE),
  };
  return config;
}
