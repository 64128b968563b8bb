import type { MessageCategory } from '../common/message-category';
import { PLAN_RATE_LIMITS } from '@app/sms-provider/helpers';
import { DEFAULT_ACCOUNT, type ProviderAccountSettings, totalRateLimit } from './provider-accounts';
import type { RedisTarget } from './redis-url';

/** The HTTP server's timeouts and caps (the shape common/http/connection-limits takes). */
export interface HttpLimits {
  /** A connection must have sent its whole request line and headers within this. */
  headersTimeoutMs: number;
  /** ... and its whole body within this. */
  requestTimeoutMs: number;
  /** A kept-alive connection with no request in flight is closed after this. */
  keepAliveTimeoutMs: number;
  /** Open connections from one peer address (0: no cap); trusted proxies are exempt. */
  maxConnectionsPerAddress: number;
  /** Open connections in all, so that sockets never starve the database pool of descriptors. */
  maxConnections: number;
}

export type AppRole = 'api' | 'worker' | 'all';

/** TRUST_PROXY: no proxy, the number of proxy hops in front, or the proxies' addresses. */
export type TrustProxy = false | number | readonly string[];

/** Where instances with the `api` role receive provider webhooks (below PUBLIC_BASE_URL). */
export const PROVIDER_WEBHOOK_PATH = '/v1/webhooks/sms-provider';
/** The route of each account's webhooks; the account's secret verifies them. */
export const ACCOUNT_WEBHOOK_ROUTE = '/v1/webhooks/provider/:account';
export function providerWebhookPath(account: string): string {
  return `/v1/webhooks/provider/${account}`;
}

/**
 * Every setting of the service, validated once at boot (`loadConfig`). Nothing else reads the
 * environment: modules inject this class. It is a value per application instance, so tests can run
 * several differently configured instances in one process.
 */
export class AppConfig {
  port!: number;
  /** The interface to listen on: loopback unless the operator opens it (0.0.0.0 in the image). */
  host!: string;
  /**
   * Which X-Forwarded-* hops to believe: false (none), a hop count, or the addresses/CIDRs of the
   * trusted proxies. The client is the rightmost address not trusted, never the leftmost.
   */
  trustProxy!: TrustProxy;
  /** Timeouts and caps of the HTTP server (slow or idle clients cannot hold it). */
  http!: HttpLimits;
  /** The built web console (`npm run build`), served at /console; absolute. */
  consoleDir!: string;
  databaseUrl!: string;
  /** REDIS_URL as given (trailing slashes removed). */
  redisUrl!: string;
  /** What REDIS_URL names: one server or a cluster; connections are made from this. */
  redis!: RedisTarget;
  queuePrefix!: string;
  appRole!: AppRole;
  publicBaseUrl!: string;
  adminApiKey!: string | null;
  /** `NODE_ENV`: only "production" changes anything (published credentials refused, warnings). */
  nodeEnv!: string;
  /**
   * Failed authentications allowed per client address (an IPv6 /64) and per presented key prefix
   * and window (shared through Redis); a valid key is never refused.
   */
  authFailures!: { limit: number; windowMs: number };
  logLevel!: string;

  tracing!: {
    /** OTLP/HTTP collector base URL; null (the default): no tracing at all. */
    otlpEndpoint: string | null;
    serviceName: string;
  };

  provider!: {
    /** In routing order: a message goes to the first whose categories and teams match it. */
    accounts: readonly ProviderAccountSettings[];
    timeoutMs: number;
    registerWebhook: boolean;
    /** The longest an account's circuit stays open before a probe, however long the outage. */
    circuitMaxOpenMs: number;
    /** PUBLIC_BASE_URL: each account's webhook path is below it (see callbackUrl). */
    webhookBaseUrl: string;
  };

  sending!: {
    concurrency: number;
    maxAttempts: number;
    retryBaseMs: number;
    retryMaxMs: number;
    /** A claim older than this with no provider answer recorded is considered in doubt. */
    claimTimeoutMs: number;
    /** Recipients per provider request at most (1: one request per message). */
    batchMax: number;
    /** Messages of one text due within this of each other may share a request. */
    batchWindowMs: number;
    throttleSafetyFactor: number;
    /** The latest after a call left us that the provider may count it (see RedisRateLimiter). */
    throttleCountedWithinMs: number;
    /** A sending process's lease lapses this long after its last heartbeat (crash detection). */
    leaseTtlMs: number;
    heartbeatMs: number;
  };

  schedule!: {
    sweepIntervalMs: number;
    creditsCheckIntervalMs: number;
    /** Scheduled messages due within this horizon are handed to Bull as delayed jobs. */
    scheduleLookaheadMs: number;
  };

  /** Recipient protection per message category (recipient-protection/). */
  protection!: {
    /** At most so many messages per number per window; null: no cap. */
    caps: Record<MessageCategory, RecipientCap | null>;
    /** Local hours in which a message of the category is not sent; null: none. */
    quietHours: Record<MessageCategory, QuietHours | null>;
    /** The zone of a recipient whose request names none and whose country has several. */
    defaultTimezone: string;
    /** How long after it is due a message is still worth sending. */
    validityMs: Record<MessageCategory, number>;
  };

  reconcile!: {
    intervalMs: number;
    /** A queued/sent message with no news for this long is polled. */
    staleAfterMs: number;
    /** A message with no final status after this long becomes expired. */
    maxAgeMs: number;
    batchSize: number;
  };

  /**
   * Webhook events for messages not known yet (kept up to 7 days until their message appears):
   * how many rows at most, and how many this instance parks per second.
   */
  parkedEvents!: { max: number; perSecond: number };

  callbacks!: {
    maxAttempts: number;
    retryBaseMs: number;
    timeoutMs: number;
    /** Callback requests of one team in flight per process, so one slow endpoint cannot hold every worker. */
    teamConcurrency: number;
    /** Where callbacks may connect (see callbacks/callback-address-policy.ts). */
    addresses: {
      allowLoopback: boolean;
      allowedHosts: readonly string[];
      deniedCidrs: readonly string[];
    };
  };

  /** Every account's plan added up: what the fleet may hand to the provider per second. */
  get rateLimitPerSecond(): number {
    return totalRateLimit(this.provider.accounts);
  }

  rateLimitOf(account: ProviderAccountSettings): number {
    return PLAN_RATE_LIMITS[account.plan];
  }

  /**
   * The account PROVIDER_WEBHOOK_PATH (the path from before accounts) stands for: the one named
   * `default` (the only one when SMS_PROVIDER_ACCOUNTS is unset), else the first.
   */
  get legacyWebhookAccount(): ProviderAccountSettings {
    const accounts = this.provider.accounts;
    return accounts.find((a) => a.name === DEFAULT_ACCOUNT) ?? accounts[0];
  }

  /** Sent with every message of the account and registered for it: where its webhooks arrive. */
  callbackUrl(account: string): string {
    const path =
      account === this.legacyWebhookAccount.name
        ? PROVIDER_WEBHOOK_PATH
        : providerWebhookPath(account);
    return `${this.provider.webhookBaseUrl}${path}`;
  }

  get runsApi(): boolean {
    return this.appRole !== 'worker';
  }

  get runsWorker(): boolean {
    return this.appRole !== 'api';
  }
}

export interface RecipientCap {
  limit: number;
  windowMs: number;
}

/** Minutes after local midnight; the window wraps past midnight when end < start. */
export interface QuietHours {
  startMinute: number;
  endMinute: number;
}
