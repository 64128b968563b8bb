import { PLAN_RATE_LIMITS, type ProviderPlan } from '@app/sms-provider';
import { z } from 'zod';

export type SandboxLogLevel = 'silent' | 'error' | 'warn' | 'log' | 'debug';

/** Which routes `errorRate` and `failNext` hit: only POST /v1/messages, or every /v1 route. */
export type FaultScope = 'send' | 'all';

/** Inclusive bounds in ms of a delay drawn uniformly per request; [0, 0] is none. */
export type DelayRange = readonly [min: number, max: number];

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
  /** Network delay before a request reaches the sandbox: it is counted and logged after it. */
  forwardDelayMs: DelayRange;
  /** Network delay of the answer, after the sandbox produced it. */
  returnDelayMs: DelayRange;
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
export type SandboxOverrides = Partial<
  Omit<SandboxConfig, 'apiKeys' | 'forwardDelayMs' | 'returnDelayMs'>
> & {
  apiKeys?: SandboxAccountSeed[] | string;
  /** A range, or one number for a fixed delay. */
  forwardDelayMs?: DelayRange | number;
  returnDelayMs?: DelayRange | number;
};

export const SANDBOX_CONFIG = Symbol('SANDBOX_CONFIG');

const LOG_LEVELS = ['silent', 'error', 'warn', 'log', 'debug'] as const satisfies SandboxLogLevel[];
const FAULT_SCOPES = ['send', 'all'] as const satisfies FaultScope[];
const PLANS = Object.keys(PLAN_RATE_LIMITS) as [ProviderPlan, ...ProviderPlan[]];
const DAY = 86_400_000;

export const DEFAULT_SANDBOX_CONFIG: Readonly<SandboxConfig> = {
  port: 4010,
  host: '127.0.0.1',
  apiKeys: [{ key: 'sk_test_sandbox', plan: 'standard', credits: 100_000 }],
  webhookSecret: 'whsec_sandbox',
  sentDelayMs: 300,
  deliveredDelayMs: 1000,
  errorRate: 0,
  latencyMs: 0,
  forwardDelayMs: [0, 0],
  returnDelayMs: [0, 0],
  force429: false,
  faultScope: 'send',
  webhookMaxAttempts: 5,
  webhookRetryBaseMs: 500,
  webhookTimeoutMs: 5000,
  defaultSender: 'SANDBOX',
  requestLogLimit: 100_000,
  logLevel: 'log',
};

function integer(min: number, max: number) {
  const problem = {
    error: (issue: { input: unknown }) =>
      `must be an integer from ${min} to ${max}, got ${JSON.stringify(issue.input)}`,
  };
  return z.number(problem).int(problem).min(min, problem).max(max, problem);
}

const fractionProblem = {
  error: (issue: { input: unknown }) => `must be a number from 0 to 1, got ${String(issue.input)}`,
};
const fraction = z.number(fractionProblem).min(0, fractionProblem).max(1, fractionProblem);

/** The longest one-way delay: a minute, like latency_ms. */
export const MAX_DELAY_MS = 60_000;

/** A fixed delay (one number) or [min, max], read into a range; one message for any problem. */
const delayRange = z.unknown().transform((value, ctx): DelayRange => {
  const range: unknown = typeof value === 'number' ? [value, value] : value;
  const bounds =
    Array.isArray(range) &&
    range.length === 2 &&
    range.every((ms) => Number.isInteger(ms) && ms >= 0 && ms <= MAX_DELAY_MS)
      ? (range as [number, number])
      : null;
  if (!bounds) {
    ctx.addIssue({
      code: 'custom',
      message: `must be an integer or [min, max] from 0 to ${MAX_DELAY_MS}, got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  if (bounds[0] > bounds[1]) {
    ctx.addIssue({ code: 'custom', message: 'must not have its min above its max' });
    return z.NEVER;
  }
  return bounds;
});

const notEmpty = z.string({ error: 'must not be empty' }).min(1, 'must not be empty');

/** One account; a problem is reported with the entry's position, never its key (a secret). */
const accountSeed = z.object({
  key: z.string().regex(/^[^\s:,]+$/, 'has an empty key or one with : , or spaces'),
  plan: z.enum(PLANS, {
    error: (issue) => `has plan "${String(issue.input)}"; use ${PLANS.join(' or ')}`,
  }),
  credits: z
    .number({ error: 'must have a non-negative integer of credits' })
    .refine(Number.isSafeInteger, 'must have a non-negative integer of credits')
    .min(0, 'must have a non-negative integer of credits'),
});

/** The SANDBOX_API_KEYS text form, "key:plan:credits,...", read into seeds (checked after). */
function readAccountList(raw: string, ctx: z.RefinementCtx): unknown[] {
  const seeds: unknown[] = [];
  const entries = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  for (const [index, entry] of entries.entries()) {
    const [key = '', plan = '', credits = '', ...rest] = entry.split(':').map((p) => p.trim());
    const where = `entry ${index + 1}`;
    if (rest.length > 0 || !key || !plan || !credits) {
      ctx.addIssue({ code: 'custom', message: `${where} must look like key:plan:credits` });
      return z.NEVER;
    }
    if (!/^\d+$/.test(credits)) {
      ctx.addIssue({ code: 'custom', message: `${where} has non-integer credits` });
      return z.NEVER;
    }
    seeds.push({ key, plan, credits: Number(credits) });
  }
  return seeds;
}

/** Seeds, or their text form (the env syntax, which tests reuse). */
const accounts = z
  .unknown()
  .transform((value, ctx) => (typeof value === 'string' ? readAccountList(value, ctx) : value))
  .pipe(
    z
      .array(accountSeed)
      .min(1, 'must list at least one key:plan:credits')
      .superRefine((seeds, ctx) => {
        const seen = new Set<string>();
        seeds.forEach((seed, index) => {
          if (seen.has(seed.key)) {
            ctx.addIssue({ code: 'custom', path: [index], message: 'repeats a key' });
          }
          seen.add(seed.key);
        });
      }),
  );

/**
 * Every setting of the sandbox and what it may be, whether it came from the environment (through
 * the text forms below) or from code (tests): a typo fails loudly in both.
 */
const sandboxSchema = z.object({
  port: integer(0, 65_535),
  host: notEmpty,
  apiKeys: accounts,
  webhookSecret: notEmpty,
  sentDelayMs: integer(0, DAY),
  deliveredDelayMs: integer(0, DAY),
  errorRate: fraction,
  latencyMs: integer(0, 60_000),
  forwardDelayMs: delayRange,
  returnDelayMs: delayRange,
  force429: z.boolean({ error: 'must be a boolean' }),
  faultScope: z.enum(FAULT_SCOPES, { error: `must be one of ${FAULT_SCOPES.join(', ')}` }),
  webhookMaxAttempts: integer(1, 100),
  webhookRetryBaseMs: integer(0, DAY),
  webhookTimeoutMs: integer(1, 600_000),
  defaultSender: notEmpty,
  requestLogLimit: integer(1, 10_000_000),
  logLevel: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }),
});

// How a variable's text becomes a value; the value's rules are the schema's.
const asNumber = z
  .string()
  .trim()
  // Number('') is 0 and Number('0x10') is 16; neither is what someone typing a config value means.
  .regex(/^-?(\d+(\.\d*)?|\.\d+)$/, {
    error: (issue) => `must be a number, got "${String(issue.input)}"`,
  })
  .transform(Number);
const asBoolean = z
  .string()
  .trim()
  .pipe(
    z.stringbool({
      truthy: ['1', 'true', 'yes', 'on'],
      falsy: ['0', 'false', 'no', 'off'],
      error: (issue) => `must be true or false, got "${String(issue.input)}"`,
    }),
  );
/** `70` or `60-80` (ms). */
const asDelayRange = z
  .string()
  .trim()
  .regex(/^\d+(\s*-\s*\d+)?$/, {
    error: (issue) => `must be milliseconds or min-max, got "${String(issue.input)}"`,
  })
  .transform((text) => {
    const [min, max = min] = text.split('-').map((part) => Number(part.trim()));
    return [min, max];
  });
const trimmed = z.string().trim();
const lowerCase = z.string().trim().toLowerCase();
const asIs = z.string();

/** Which environment variable feeds which field, and how its text is read. */
const FROM_ENV: {
  readonly [F in keyof SandboxConfig]: readonly [string, z.ZodType<unknown, string>];
} = {
  port: ['SANDBOX_PORT', asNumber],
  host: ['SANDBOX_HOST', trimmed],
  apiKeys: ['SANDBOX_API_KEYS', asIs],
  // Not trimmed: a secret is used byte for byte.
  webhookSecret: ['SANDBOX_WEBHOOK_SECRET', asIs],
  sentDelayMs: ['SANDBOX_SENT_DELAY_MS', asNumber],
  deliveredDelayMs: ['SANDBOX_DELIVERED_DELAY_MS', asNumber],
  errorRate: ['SANDBOX_ERROR_RATE', asNumber],
  latencyMs: ['SANDBOX_LATENCY_MS', asNumber],
  forwardDelayMs: ['SANDBOX_FORWARD_DELAY_MS', asDelayRange],
  returnDelayMs: ['SANDBOX_RETURN_DELAY_MS', asDelayRange],
  force429: ['SANDBOX_FORCE_429', asBoolean],
  faultScope: ['SANDBOX_FAULT_SCOPE', lowerCase],
  webhookMaxAttempts: ['SANDBOX_WEBHOOK_MAX_ATTEMPTS', asNumber],
  webhookRetryBaseMs: ['SANDBOX_WEBHOOK_RETRY_BASE_MS', asNumber],
  webhookTimeoutMs: ['SANDBOX_WEBHOOK_TIMEOUT_MS', asNumber],
  defaultSender: ['SANDBOX_DEFAULT_SENDER', trimmed],
  requestLogLimit: ['SANDBOX_REQUEST_LOG_LIMIT', asNumber],
  logLevel: ['SANDBOX_LOG_LEVEL', lowerCase],
};

const FIELDS = Object.keys(FROM_ENV) as (keyof SandboxConfig)[];

export class SandboxConfigError extends Error {
  constructor(field: keyof SandboxConfig, problem: string) {
    super(`Invalid sandbox configuration: ${FROM_ENV[field][0]} (${field}) ${problem}`);
    this.name = 'SandboxConfigError';
  }
}

/**
 * The parsed value, or a SandboxConfigError for the first issue; `field` names the setting when
 * `schema` is that one setting's rather than the whole configuration's.
 */
function parse<T>(schema: z.ZodType<T>, input: unknown, field?: keyof SandboxConfig): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const [issue] = result.error.issues;
  const path = field === undefined ? issue.path : [field, ...issue.path];
  const [name, entry] = path;
  // Inside the account list: say which entry, by position.
  const problem = typeof entry === 'number' ? `entry ${entry + 1} ${issue.message}` : issue.message;
  throw new SandboxConfigError(name as keyof SandboxConfig, problem);
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads the SANDBOX_* variables of `env`; unset or empty variables are left to the defaults. */
export function loadSandboxConfig(env: Env): Partial<SandboxConfig> {
  const values: Record<string, unknown> = {};
  for (const field of FIELDS) {
    const [name, text] = FROM_ENV[field];
    const raw = env[name];
    if (raw !== undefined && raw.trim() !== '') values[field] = parse(text, raw, field);
  }
  return parse(sandboxSchema.partial(), values);
}

/**
 * Defaults overlaid with `overrides`, checked as a whole. Overrides from code (tests) pass the same
 * checks as values from the environment, so a typo fails loudly in both.
 */
export function resolveSandboxConfig(overrides: SandboxOverrides = {}): SandboxConfig {
  const given = Object.fromEntries(
    Object.entries(overrides).filter(([, value]) => value !== undefined),
  );
  return parse(sandboxSchema, { ...DEFAULT_SANDBOX_CONFIG, ...given });
}
