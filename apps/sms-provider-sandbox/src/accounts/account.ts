import type { ProviderPlan } from '@app/sms-provider';

/** One API key and its balance; in the sandbox a key is an account. */
export interface Account {
  readonly key: string;
  plan: ProviderPlan;
  credits: number;
  creditsUsed: number;
}
