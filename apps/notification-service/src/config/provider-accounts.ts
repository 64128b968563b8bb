import { readFileSync } from 'node:fs';
import { PLAN_RATE_LIMITS, type ProviderPlan } from '@app/sms-provider/helpers';
import { z } from 'zod';
import { MESSAGE_CATEGORIES, type MessageCategory } from '../common/message-category';

/** The account today's SMS_PROVIDER_* variables describe when SMS_PROVIDER_ACCOUNTS is unset. */
export const DEFAULT_ACCOUNT = 'default';

/** One provider account the service may send through, in its place in the routing order. */
export interface ProviderAccountSettings {
  /** In webhook paths, Redis keys and metric labels, so a restricted alphabet. */
  name: string;
  baseUrl: string;
  apiKey: string;
  plan: ProviderPlan;
  webhookSecret: string;
  /** Only messages of these categories; null: any. */
  categories: readonly MessageCategory[] | null;
  /** Only messages of these teams; null: any. */
  teams: readonly string[] | null;
}

const ACCOUNT_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;

const nonEmpty = z.string().trim().min(1, 'must not be empty');

const accountSchema = z
  .object({
    name: z
      .string()
      .regex(ACCOUNT_NAME, 'must be 1-32 of a-z, 0-9, _ and -, starting with a letter or digit'),
    base_url: nonEmpty
      .refine((value) => URL.canParse(value), { error: 'must be a URL', abort: true })
      .refine((value) => ['http:', 'https:'].includes(new URL(value).protocol), {
        error: 'must use http: or https:',
      })
      .transform((value) => value.replace(/\/+$/, '')),
    api_key: nonEmpty,
    plan: z.enum(['standard', 'enterprise'], { error: 'must be standard or enterprise' }),
    webhook_secret: nonEmpty,
    categories: z
      .array(z.enum(MESSAGE_CATEGORIES, { error: `must be ${MESSAGE_CATEGORIES.join(', ')}` }))
      .min(1, 'must name at least one category (leave it out for any)')
      .optional(),
    teams: z
      .array(nonEmpty)
      .min(1, 'must name at least one team (leave it out for any)')
      .optional(),
  })
  .strict();

const accountsSchema = z
  .array(accountSchema)
  .min(1, 'must hold at least one account')
  .superRefine((accounts, ctx) => {
    const seen = new Set<string>();
    accounts.forEach((account, index) => {
      if (seen.has(account.name)) {
        ctx.addIssue({ code: 'custom', path: [index, 'name'], message: 'is used twice' });
      }
      seen.add(account.name);
    });
    // Teams come and go at run time, so only a catch-all account guarantees every message of a
    // category somewhere to go; without one, some team's messages could never be sent.
    for (const category of MESSAGE_CATEGORIES) {
      const covered = accounts.some(
        (a) => !a.teams && (!a.categories || a.categories.includes(category)),
      );
      if (!covered) {
        ctx.addIssue({
          code: 'custom',
          path: [],
          message: `has no account for every team's ${category} messages (one without "teams" whose categories include ${category})`,
        });
      }
    }
  });

/**
 * SMS_PROVIDER_ACCOUNTS: a JSON array, or the path of a file holding one. Returns the accounts or
 * a problem naming the field (`[1].api_key must not be empty`), never the secrets themselves.
 */
export function parseProviderAccounts(
  raw: string,
): { accounts: ProviderAccountSettings[] } | { problem: string } {
  let text = raw.trim();
  if (!text.startsWith('[')) {
    try {
      text = readFileSync(text, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      return { problem: `is neither a JSON array nor a readable file (${code})` };
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { problem: `is not valid JSON: ${(error as Error).message}` };
  }
  const parsed = accountsSchema.safeParse(json);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    return { problem: `${fieldPath(issue.path)}${issue.message}` };
  }
  return {
    accounts: parsed.data.map((a) => ({
      name: a.name,
      baseUrl: a.base_url,
      apiKey: a.api_key,
      plan: a.plan,
      webhookSecret: a.webhook_secret,
      categories: a.categories ?? null,
      teams: a.teams ?? null,
    })),
  };
}

function fieldPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '';
  const text = path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`));
  return `${text.join('').replace(/^\./, '')} `;
}

/** The plans' request rates added up: what the fleet can hand to the provider per second. */
export function totalRateLimit(accounts: readonly ProviderAccountSettings[]): number {
  return accounts.reduce((sum, account) => sum + PLAN_RATE_LIMITS[account.plan], 0);
}
