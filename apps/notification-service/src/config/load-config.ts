import { resolve } from 'node:path';
import { IANAZone } from 'luxon';
import { z } from 'zod';
import { MESSAGE_CATEGORIES, type MessageCategory } from '../common/message-category';
import { isCidr } from './cidr';
import {
  AppConfig,
  type AppRole,
  type QuietHours,
  type RecipientCap,
  type TrustProxy,
} from './app-config';
import { productionRefusals } from './production-warnings';
import {
  DEFAULT_ACCOUNT,
  parseProviderAccounts,
  type ProviderAccountSettings,
} from './provider-accounts';
import { parseRedisUrl, type RedisTarget, RedisUrlError } from './redis-url';

export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

// Unset and blank both mean "the default", so that `FOO=` in a compose file or a .env does not
// turn into a value. Values are trimmed before any check.
const unsetWhenBlank = (value: unknown): unknown =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

type FromText<T> = z.ZodType<T, string>;

function setting<T>(schema: FromText<T>, fallback: NoInfer<T>) {
  // Only unset takes the default: null is a value (`off`, `0`: no cap, no quiet hours).
  return optionalSetting(schema).transform((value) => (value === undefined ? fallback : value));
}

/** For a setting whose default depends on others: undefined when unset. */
function optionalSetting<T>(schema: FromText<T>) {
  return z.preprocess(unsetWhenBlank, schema.optional());
}

const text = z.string().trim();

function integer(min: number, max: number): FromText<number> {
  const range = {
    error: (issue: { input: unknown }) =>
      `must be between ${min} and ${max}, got ${String(issue.input)}`,
  };
  return text
    .regex(/^\d+$/, { error: (issue) => `must be an integer, got "${String(issue.input)}"` })
    .transform(Number)
    .pipe(z.number().min(min, range).max(max, range));
}

function decimal(min: number, max: number): FromText<number> {
  return text
    .refine(
      (raw) => {
        const value = Number(raw);
        return Number.isFinite(value) && value >= min && value <= max;
      },
      {
        error: (issue) =>
          `must be a number between ${min} and ${max}, got "${String(issue.input)}"`,
      },
    )
    .transform(Number);
}

const flag: FromText<boolean> = text.pipe(
  z.stringbool({
    truthy: ['true', '1', 'yes'],
    falsy: ['false', '0', 'no'],
    error: (issue) => `must be true or false, got "${String(issue.input)}"`,
  }),
);

/** A comma-separated list; blank entries are ignored. */
function list(item: z.ZodType<string, string>): FromText<string[]> {
  return text.transform((raw, ctx) => {
    const entries = raw
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
    const values: string[] = [];
    for (const entry of entries) {
      const parsed = item.safeParse(entry);
      if (!parsed.success) {
        ctx.addIssue({ code: 'custom', message: parsed.error.issues[0]?.message ?? 'invalid' });
        return z.NEVER;
      }
      values.push(parsed.data);
    }
    return values;
  });
}

const cidr = z
  .string()
  .refine(isCidr, { error: (issue) => `must list IPs or CIDRs, got "${String(issue.input)}"` });
const hostOrCidr = z.string().refine((entry) => isCidr(entry) || /^\.?[a-z0-9.-]+$/i.test(entry), {
  error: (issue) => `must list host names or CIDRs, got "${String(issue.input)}"`,
});

function oneOf<const T extends readonly [string, ...string[]]>(allowed: T): FromText<T[number]> {
  return text.pipe(
    z.enum(allowed, {
      error: (issue) => `must be one of ${allowed.join(', ')}, got "${String(issue.input)}"`,
    }),
  );
}

/** A URL with one of `protocols`, without trailing slashes (paths are appended to it). */
function url(protocols: readonly string[]): FromText<string> {
  return text
    .refine((value) => URL.canParse(value), { error: 'must be a URL', abort: true })
    .refine((value) => protocols.includes(new URL(value).protocol), {
      error: `must use ${protocols.join(' or ')}`,
    })
    .transform((value) => value.replace(/\/+$/, ''));
}

/** One Redis server or a Redis Cluster (see redis-url.ts for the forms). */
const redisTarget: FromText<RedisTarget> = text.transform((value, ctx) => {
  try {
    return parseRedisUrl(value);
  } catch (error) {
    if (!(error instanceof RedisUrlError)) throw error;
    ctx.addIssue({ code: 'custom', message: error.message });
    return z.NEVER;
  }
});

const DURATION_UNITS: Record<string, number> = { s: SECOND, m: MINUTE, h: HOUR, d: 24 * HOUR };

/** `90s`, `10m`, `24h`, `3d`: a duration in milliseconds, between `min` and `max`. */
function duration(min: number, max: number): FromText<number> {
  return text.transform((raw, ctx) => {
    const match = /^(\d+)([smhd])$/.exec(raw);
    const ms = match ? Number(match[1]) * DURATION_UNITS[match[2]] : NaN;
    if (!(ms >= min && ms <= max)) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a duration like 10m, 24h or 3d between ${describeMs(min)} and ${describeMs(max)}, got "${raw}"`,
      });
      return z.NEVER;
    }
    return ms;
  });
}

function describeMs(ms: number): string {
  const [unit, size] = Object.entries(DURATION_UNITS)
    .reverse()
    .find(([, size]) => ms % size === 0) ?? ['s', SECOND];
  return `${ms / size}${unit}`;
}

/** `5/1h` (at most 5 per hour), or `0` for no cap. */
const recipientCap: FromText<RecipientCap | null> = text.transform((raw, ctx) => {
  if (raw === '0' || raw.toLowerCase() === 'off') return null;
  const match = /^(\d+)\/(\d+[smhd])$/.exec(raw);
  const limit = match ? Number(match[1]) : NaN;
  const window = match ? duration(SECOND, 31 * 24 * HOUR).safeParse(match[2]) : null;
  if (!(limit >= 1 && limit <= 1_000_000) || !window?.success) {
    ctx.addIssue({
      code: 'custom',
      message: `must be messages per window like 5/1h or 2/24h (1-1000000 per 1s-31d), or 0 for no cap, got "${raw}"`,
    });
    return z.NEVER;
  }
  return { limit, windowMs: window.data };
});

/** `21:00-08:00` (local time, may wrap past midnight), or `off`. */
const quietHours: FromText<QuietHours | null> = text.transform((raw, ctx) => {
  if (raw.toLowerCase() === 'off') return null;
  const match = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/.exec(raw);
  const start = match ? Number(match[1]) * 60 + Number(match[2]) : NaN;
  const end = match ? Number(match[3]) * 60 + Number(match[4]) : NaN;
  if (!match || start === end) {
    ctx.addIssue({
      code: 'custom',
      message: `must be a local window like 21:00-08:00 (start and end differ), or off, got "${raw}"`,
    });
    return z.NEVER;
  }
  return { startMinute: start, endMinute: end };
});

/** SMS_PROVIDER_ACCOUNTS: a JSON array of accounts, or the path of a file holding one. */
const providerAccounts: FromText<ProviderAccountSettings[]> = text.transform((raw, ctx) => {
  const parsed = parseProviderAccounts(raw);
  if ('problem' in parsed) {
    ctx.addIssue({ code: 'custom', message: parsed.problem });
    return z.NEVER;
  }
  return parsed.accounts;
});

/** An IANA time zone name the runtime knows (Europe/Berlin, UTC). */
const timeZone: FromText<string> = text.refine((zone) => IANAZone.isValidZone(zone), {
  error: (issue) =>
    `must be an IANA time zone name like Europe/Berlin or UTC, got "${String(issue.input)}"`,
});

/** proxy-addr's names for address ranges, accepted beside addresses and CIDRs. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * `false`, a hop count (1-32) or a list of trusted proxy addresses/CIDRs/range names. `true` is
 * refused: it believes the leftmost, client-written X-Forwarded-For, so a client picks its own
 * address (and with it whose failed authentications it is counted as).
 */
const trustProxy: FromText<TrustProxy> = text.transform((raw, ctx) => {
  const value = raw.toLowerCase();
  if (['false', 'no', '0'].includes(value)) return false;
  if (['true', 'yes'].includes(value)) {
    ctx.addIssue({
      code: 'custom',
      message:
        'may not be true (that believes whatever X-Forwarded-For a client writes): give the number of proxies in front of the service (e.g. 1) or their addresses/CIDRs (e.g. 10.0.0.0/8 or loopback)',
    });
    return z.NEVER;
  }
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops > 32) {
      ctx.addIssue({ code: 'custom', message: `must be a hop count of at most 32, got ${hops}` });
      return z.NEVER;
    }
    return hops;
  }
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const bad = entries.find((entry) => !isCidr(entry) && !PROXY_RANGE_NAMES.includes(entry));
  if (bad !== undefined || entries.length === 0) {
    ctx.addIssue({
      code: 'custom',
      message: `must be false, a hop count or a list of proxy addresses/CIDRs (or ${PROXY_RANGE_NAMES.join(', ')}), got "${bad ?? raw}"`,
    });
    return z.NEVER;
  }
  return entries;
});

const ROLES = ['api', 'worker', 'all'] as const satisfies readonly AppRole[];

/**
 * The whole environment of the service, one entry per variable (the first bad one in this order is
 * reported). Defaults that depend on other settings (PUBLIC_BASE_URL, SEND_CONCURRENCY) are filled
 * in by `toAppConfig`; checks across settings run once every single one is valid.
 */
const fields = z.object({
  PORT: setting(integer(0, 65535), 3000),
  HOST: setting(text.min(1), '127.0.0.1'),
  TRUST_PROXY: setting(trustProxy, false),
  HTTP_HEADERS_TIMEOUT_MS: setting(integer(1 * SECOND, 5 * MINUTE), 10 * SECOND),
  HTTP_REQUEST_TIMEOUT_MS: setting(integer(1 * SECOND, 10 * MINUTE), 30 * SECOND),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: setting(integer(1 * SECOND, 10 * MINUTE), 65 * SECOND),
  HTTP_MAX_CONNECTIONS_PER_ADDRESS: setting(integer(0, 1_000_000), 128),
  HTTP_MAX_CONNECTIONS: setting(integer(16, 1_000_000), 4096),
  NODE_ENV: setting(text, 'development'),
  AUTH_FAILURE_LIMIT: setting(integer(1, 1_000_000), 20),
  AUTH_FAILURE_WINDOW_MS: setting(integer(1 * SECOND, 24 * HOUR), 1 * MINUTE),
  CONSOLE_DIR: setting(text.min(1), 'dist/console'),
  DATABASE_URL: setting(
    url(['postgres:', 'postgresql:']),
    'postgres://postgres@127.0.0.1:5432/notifications',
  ),
  REDIS_URL: setting(redisTarget, parseRedisUrl('redis://127.0.0.1:6379')),
  QUEUE_PREFIX: setting(
    text.regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 letters, digits or _ . : -'),
    'notify',
  ),
  APP_ROLE: setting(oneOf(ROLES), 'all'),
  PUBLIC_BASE_URL: optionalSetting(url(['http:', 'https:'])),
  ADMIN_API_KEY: optionalSetting(text.min(16, 'must be at least 16 characters')),
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalSetting(url(['http:', 'https:'])),
  OTEL_SERVICE_NAME: setting(text.min(1), 'notification-service'),
  LOG_LEVEL: setting(oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info'),

  SMS_PROVIDER_BASE_URL: setting(url(['http:', 'https:']), 'http://127.0.0.1:4010/v1'),
  SMS_PROVIDER_API_KEY: setting(text, 'sk_test_sandbox'),
  SMS_PROVIDER_PLAN: setting(oneOf(['standard', 'enterprise']), 'standard'),
  SMS_PROVIDER_WEBHOOK_SECRET: setting(text, 'whsec_sandbox'),
  SMS_PROVIDER_TIMEOUT_MS: setting(integer(100, 5 * MINUTE), 10 * SECOND),
  SMS_PROVIDER_REGISTER_WEBHOOK: setting(flag, false),
  SMS_PROVIDER_ACCOUNTS: optionalSetting(providerAccounts),
  SMS_PROVIDER_CIRCUIT_MAX_OPEN_MS: setting(integer(1 * SECOND, 10 * MINUTE), 30 * SECOND),

  SEND_CONCURRENCY: optionalSetting(integer(1, 500)),
  SEND_MAX_ATTEMPTS: setting(integer(1, 50), 6),
  SEND_RETRY_BASE_MS: setting(integer(1, HOUR), 2 * SECOND),
  SEND_RETRY_MAX_MS: setting(integer(1, 24 * HOUR), 5 * MINUTE),
  SEND_CLAIM_TIMEOUT_MS: setting(integer(1 * SECOND, HOUR), 2 * MINUTE),
  SEND_BATCH_MAX: setting(integer(1, 1000), 100),
  SEND_BATCH_WINDOW_MS: setting(integer(0, MINUTE), 250),
  THROTTLE_SAFETY_FACTOR: setting(decimal(0.5, 1), 0.995),
  THROTTLE_COUNTED_WITHIN_MS: optionalSetting(integer(1, 10 * MINUTE)),
  WORKER_LEASE_TTL_MS: setting(integer(1 * SECOND, MINUTE), 3 * SECOND),
  WORKER_HEARTBEAT_MS: setting(integer(100, 30 * SECOND), 1 * SECOND),

  SWEEP_INTERVAL_MS: setting(integer(100, HOUR), 5 * SECOND),
  CREDITS_CHECK_INTERVAL_MS: setting(integer(100, HOUR), 30 * SECOND),
  SCHEDULE_LOOKAHEAD_MS: setting(integer(1 * SECOND, HOUR), 60 * SECOND),

  RECONCILE_INTERVAL_MS: setting(integer(100, HOUR), 10 * SECOND),
  RECONCILE_STALE_AFTER_MS: setting(integer(100, 7 * 24 * HOUR), 1 * MINUTE),
  RECONCILE_MAX_AGE_MS: setting(integer(1 * SECOND, 30 * 24 * HOUR), 72 * HOUR),
  RECONCILE_BATCH_SIZE: setting(integer(1, 10_000), 100),
  PARKED_EVENTS_MAX: setting(integer(0, 10_000_000), 100_000),
  PARKED_EVENTS_PER_SECOND: setting(integer(0, 100_000), 100),

  RECIPIENT_CAP_OTP: setting(recipientCap, { limit: 5, windowMs: HOUR }),
  RECIPIENT_CAP_TRANSACTIONAL: setting(recipientCap, { limit: 30, windowMs: HOUR }),
  RECIPIENT_CAP_MARKETING: setting(recipientCap, { limit: 2, windowMs: 24 * HOUR }),
  QUIET_HOURS_OTP: setting(quietHours, null),
  QUIET_HOURS_TRANSACTIONAL: setting(quietHours, null),
  QUIET_HOURS_MARKETING: setting(quietHours, { startMinute: 21 * 60, endMinute: 8 * 60 }),
  QUIET_HOURS_DEFAULT_TIMEZONE: setting(timeZone, 'UTC'),
  MESSAGE_VALIDITY_OTP: setting(duration(MINUTE, 35 * 24 * HOUR), 10 * MINUTE),
  MESSAGE_VALIDITY_TRANSACTIONAL: setting(duration(MINUTE, 35 * 24 * HOUR), 24 * HOUR),
  MESSAGE_VALIDITY_MARKETING: setting(duration(MINUTE, 35 * 24 * HOUR), 72 * HOUR),

  CALLBACK_MAX_ATTEMPTS: setting(integer(1, 50), 8),
  CALLBACK_RETRY_BASE_MS: setting(integer(1, HOUR), 5 * SECOND),
  CALLBACK_TIMEOUT_MS: setting(integer(100, MINUTE), 5 * SECOND),
  CALLBACK_TEAM_CONCURRENCY: setting(integer(1, 100), 3),
  CALLBACK_ALLOW_LOOPBACK: setting(flag, false),
  CALLBACK_ALLOWED_HOSTS: setting(list(hostOrCidr), []),
  CALLBACK_DENIED_CIDRS: setting(list(cidr), []),
});

/** The name of a variable the service reads. */
export type Variable = keyof typeof fields.shape;

/** The names of every variable the service reads (docs/configuration.md and .env.example list each). */
export const VARIABLES = Object.keys(fields.shape) as Variable[];

/** The value a variable takes when unset, as the schema fills it in; undefined when computed later. */
export function variableDefault(name: Variable): unknown {
  return fields.shape[name].parse(undefined);
}

const environment = fields
  .superRefine((env, ctx) => {
    // Published credentials in production: refused, not only warned about (production-warnings.ts).
    const refusals = productionRefusals({
      nodeEnv: env.NODE_ENV,
      providerApiKey: env.SMS_PROVIDER_API_KEY,
      webhookSecret: env.SMS_PROVIDER_WEBHOOK_SECRET,
      adminApiKey: env.ADMIN_API_KEY,
    });
    // With SMS_PROVIDER_ACCOUNTS the accounts' own credentials are the ones in use.
    const inUse = env.SMS_PROVIDER_ACCOUNTS
      ? refusals.filter((r) => !r.variable.startsWith('SMS_PROVIDER_'))
      : refusals;
    for (const { variable, problem } of inUse) {
      ctx.addIssue({ code: 'custom', path: [variable], message: problem });
    }
    env.SMS_PROVIDER_ACCOUNTS?.forEach((account, index) => {
      const own = productionRefusals({
        nodeEnv: env.NODE_ENV,
        providerApiKey: account.apiKey,
        webhookSecret: account.webhookSecret,
        adminApiKey: undefined,
      });
      for (const { variable, problem } of own) {
        const field = variable === 'SMS_PROVIDER_API_KEY' ? 'api_key' : 'webhook_secret';
        ctx.addIssue({
          code: 'custom',
          path: ['SMS_PROVIDER_ACCOUNTS'],
          message: `[${index}].${field} ${problem}`,
        });
      }
    });
    // Node refuses a request timeout shorter than the headers timeout.
    if (env.HTTP_REQUEST_TIMEOUT_MS < env.HTTP_HEADERS_TIMEOUT_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['HTTP_REQUEST_TIMEOUT_MS'],
        message: 'must be at least HTTP_HEADERS_TIMEOUT_MS',
      });
    }
    // A lease must survive one missed heartbeat, or a live but busy worker loses it.
    if (env.WORKER_HEARTBEAT_MS * 2 > env.WORKER_LEASE_TTL_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['WORKER_HEARTBEAT_MS'],
        message: 'must be at most half of WORKER_LEASE_TTL_MS',
      });
    }
    // A claim must outlast the provider call it covers, or a slow call looks abandoned.
    if (env.SEND_CLAIM_TIMEOUT_MS <= env.SMS_PROVIDER_TIMEOUT_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['SEND_CLAIM_TIMEOUT_MS'],
        message: 'must be longer than SMS_PROVIDER_TIMEOUT_MS',
      });
    }
  })
  .transform(toAppConfig);

function toAppConfig(env: z.output<typeof fields>): AppConfig {
  const config = new AppConfig();
  config.port = env.PORT;
  config.host = env.HOST;
  config.trustProxy = env.TRUST_PROXY;
  config.http = {
    headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    maxConnectionsPerAddress: env.HTTP_MAX_CONNECTIONS_PER_ADDRESS,
    maxConnections: env.HTTP_MAX_CONNECTIONS,
  };
  config.consoleDir = resolve(env.CONSOLE_DIR);
  config.databaseUrl = env.DATABASE_URL;
  config.redisUrl = env.REDIS_URL.url;
  config.redis = env.REDIS_URL;
  config.queuePrefix = env.QUEUE_PREFIX;
  config.appRole = env.APP_ROLE;
  config.publicBaseUrl = env.PUBLIC_BASE_URL ?? `http://127.0.0.1:${env.PORT}`;
  config.adminApiKey = env.ADMIN_API_KEY ?? null;
  config.nodeEnv = env.NODE_ENV;
  config.authFailures = { limit: env.AUTH_FAILURE_LIMIT, windowMs: env.AUTH_FAILURE_WINDOW_MS };
  config.logLevel = env.LOG_LEVEL;
  config.tracing = {
    otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT ?? null,
    serviceName: env.OTEL_SERVICE_NAME,
  };
  config.provider = {
    accounts: env.SMS_PROVIDER_ACCOUNTS ?? [
      {
        name: DEFAULT_ACCOUNT,
        baseUrl: env.SMS_PROVIDER_BASE_URL,
        apiKey: env.SMS_PROVIDER_API_KEY,
        plan: env.SMS_PROVIDER_PLAN,
        webhookSecret: env.SMS_PROVIDER_WEBHOOK_SECRET,
        categories: null,
        teams: null,
      },
    ],
    timeoutMs: env.SMS_PROVIDER_TIMEOUT_MS,
    registerWebhook: env.SMS_PROVIDER_REGISTER_WEBHOOK,
    circuitMaxOpenMs: env.SMS_PROVIDER_CIRCUIT_MAX_OPEN_MS,
    webhookBaseUrl: config.publicBaseUrl,
  };
  config.sending = {
    // Enough in flight to use the whole budget at ~200 ms provider latency, few enough that a
    // high-priority job fetched later is not stuck behind many reserved slots.
    concurrency: env.SEND_CONCURRENCY ?? Math.max(4, Math.ceil(config.rateLimitPerSecond * 0.6)),
    maxAttempts: env.SEND_MAX_ATTEMPTS,
    retryBaseMs: env.SEND_RETRY_BASE_MS,
    retryMaxMs: env.SEND_RETRY_MAX_MS,
    claimTimeoutMs: env.SEND_CLAIM_TIMEOUT_MS,
    batchMax: env.SEND_BATCH_MAX,
    batchWindowMs: env.SEND_BATCH_WINDOW_MS,
    throttleSafetyFactor: env.THROTTLE_SAFETY_FACTOR,
    // Unset: until the answer, which always comes within the provider timeout.
    throttleCountedWithinMs: env.THROTTLE_COUNTED_WITHIN_MS ?? env.SMS_PROVIDER_TIMEOUT_MS + SECOND,
    leaseTtlMs: env.WORKER_LEASE_TTL_MS,
    heartbeatMs: env.WORKER_HEARTBEAT_MS,
  };
  config.schedule = {
    sweepIntervalMs: env.SWEEP_INTERVAL_MS,
    creditsCheckIntervalMs: env.CREDITS_CHECK_INTERVAL_MS,
    scheduleLookaheadMs: env.SCHEDULE_LOOKAHEAD_MS,
  };
  config.reconcile = {
    intervalMs: env.RECONCILE_INTERVAL_MS,
    staleAfterMs: env.RECONCILE_STALE_AFTER_MS,
    maxAgeMs: env.RECONCILE_MAX_AGE_MS,
    batchSize: env.RECONCILE_BATCH_SIZE,
  };
  config.parkedEvents = {
    max: env.PARKED_EVENTS_MAX,
    perSecond: env.PARKED_EVENTS_PER_SECOND,
  };
  config.callbacks = {
    maxAttempts: env.CALLBACK_MAX_ATTEMPTS,
    retryBaseMs: env.CALLBACK_RETRY_BASE_MS,
    timeoutMs: env.CALLBACK_TIMEOUT_MS,
    teamConcurrency: env.CALLBACK_TEAM_CONCURRENCY,
    addresses: {
      allowLoopback: env.CALLBACK_ALLOW_LOOPBACK,
      allowedHosts: env.CALLBACK_ALLOWED_HOSTS,
      deniedCidrs: env.CALLBACK_DENIED_CIDRS,
    },
  };
  config.protection = {
    caps: byCategory((c) => env[`RECIPIENT_CAP_${upper(c)}`]),
    quietHours: byCategory((c) => env[`QUIET_HOURS_${upper(c)}`]),
    defaultTimezone: env.QUIET_HOURS_DEFAULT_TIMEZONE,
    validityMs: byCategory((c) => env[`MESSAGE_VALIDITY_${upper(c)}`]),
  };
  return config;
}

function upper<C extends MessageCategory>(category: C): Uppercase<C> {
  return category.toUpperCase() as Uppercase<C>;
}

function byCategory<T>(value: (category: MessageCategory) => T): Record<MessageCategory, T> {
  return Object.fromEntries(MESSAGE_CATEGORIES.map((c) => [c, value(c)])) as Record<
    MessageCategory,
    T
  >;
}

/** Reads and validates the environment; throws a ConfigError naming the first bad variable. */
export function loadConfig(env: Env): AppConfig {
  const result = environment.safeParse(env);
  if (result.success) return result.data;
  const [issue] = result.error.issues;
  throw new ConfigError(String(issue.path[0] ?? 'environment'), issue.message);
}
