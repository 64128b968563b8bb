import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { PLAN_RATE_LIMITS, type ProviderAccount, type ProviderPlan } from '@app/sms-provider';
import { SANDBOX_CONFIG, type SandboxConfig } from '../config';
import { SandboxError } from '../common/sandbox-error';
import type { Account } from './account';

/** Credits a key starts with when an admin call creates it without saying. */
export const DEFAULT_NEW_ACCOUNT_CREDITS = 100_000;

@Injectable()
export class AccountsService {
  private readonly accounts = new Map<string, Account>();

  constructor(@Inject(SANDBOX_CONFIG) private readonly config: SandboxConfig) {
    this.reset();
  }

  reset(): void {
    this.accounts.clear();
    for (const seed of this.config.apiKeys) {
      this.accounts.set(seed.key, {
        key: seed.key,
        plan: seed.plan,
        credits: seed.credits,
        creditsUsed: 0,
      });
    }
  }

  find(key: string): Account | undefined {
    return this.accounts.get(key);
  }

  rateLimitOf(account: Account): number {
    return PLAN_RATE_LIMITS[account.plan];
  }

  /** Takes `amount` credits or nothing at all: a send that cannot be paid for in full is refused. */
  debit(account: Account, amount: number): void {
    if (account.credits < amount) {
      throw new SandboxError(
        HttpStatus.PAYMENT_REQUIRED,
        'insufficient_credits',
        `Your account has insufficient credits: this send needs ${amount}, ${account.credits} remaining`,
      );
    }
    account.credits -= amount;
    account.creditsUsed += amount;
  }

  upsert(key: string, patch: { credits?: number; plan?: ProviderPlan }): Account {
    let account = this.accounts.get(key);
    if (!account) {
      account = { key, plan: 'standard', credits: DEFAULT_NEW_ACCOUNT_CREDITS, creditsUsed: 0 };
      this.accounts.set(key, account);
    }
    if (patch.plan !== undefined) account.plan = patch.plan;
    if (patch.credits !== undefined) account.credits = patch.credits;
    return account;
  }

  toWire(account: Account): ProviderAccount {
    return {
      plan: account.plan,
      credits: account.credits,
      credits_remaining: account.credits,
      credits_used: account.creditsUsed,
      rate_limit: { limit: this.rateLimitOf(account), period_seconds: 1 },
    };
  }
}
