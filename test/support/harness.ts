import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client } from 'pg';
import { startApp } from '../../apps/notification-service/src/bootstrap';
import type { AppConfig } from '../../apps/notification-service/src/config/app-config';
import { loadConfig } from '../../apps/notification-service/src/config/load-config';
import {
  isTerminal,
  type MessageStatus,
} from '../../apps/notification-service/src/delivery-status/message-status';
import { type RunningSandbox, startSandbox } from '../../apps/sms-provider-sandbox/src/bootstrap';
import type { SandboxOverrides } from '../../apps/sms-provider-sandbox/src/config';
import {
  CONSOLE_DIST,
  type ApiOptions as KitApiOptions,
  type ApiResponse as KitApiResponse,
  callApi,
  createDatabase,
  forkSandbox,
  freePort,
  sandboxAdmin,
  throwaway,
  waitFor,
} from '../../tools/stack';
import { databasePrefix, PG_ADMIN_URL, REDIS_URL, redisPrefix, templateDatabase } from './test-env';

export { freePort, waitFor } from '../../tools/stack';

// Nest's start-up lines ("Mapped {/v1/messages, POST} route") for every app of every test.
Logger.overrideLogger(false);

export const ADMIN_KEY = 'test-admin-key-0123456789abcdef';
export const SANDBOX_KEY = 'sk_test_e2e';

/** The sandbox a harness starts unless told otherwise: fast, silent, one key with credits. */
export const SANDBOX_DEFAULTS = {
  port: 0,
  apiKeys: `${SANDBOX_KEY}:standard:1000000`,
  sentDelayMs: 50,
  deliveredDelayMs: 100,
  webhookRetryBaseMs: 50,
  logLevel: 'silent',
} as const satisfies SandboxOverrides;

/** `count` distinct US numbers from +1415555<from>. */
export const numbers = (from: number, count: number): string[] =>
  Array.from({ length: count }, (_, i) => `+1415555${String(from + i).padStart(4, '0')}`);

export type ApiResponse<T = any> = KitApiResponse<T>;

/** `key` defaults to the admin key here; `null` sends none. */
export type ApiOptions = Omit<KitApiOptions, 'timeoutMs'>;

export interface HarnessOptions {
  /** Extra service environment (e.g. SEND_MAX_ATTEMPTS). */
  env?: Record<string, string>;
  /** Sandbox settings, or an already running sandbox to share. */
  sandbox?: SandboxOverrides | RunningSandbox;
  /** Run an own sandbox in a separate process (see forkSandbox), not in this one. */
  sandboxProcess?: boolean;
  /** Share another harness's database and Redis prefix (a second instance of the same stack). */
  shareWith?: Harness;
}

export interface Harness {
  app: NestFastifyApplication;
  config: AppConfig;
  url: string;
  sandbox: RunningSandbox;
  databaseName: string;
  queuePrefix: string;
  env: Record<string, string>;
  api<T = any>(method: string, path: string, options?: ApiOptions): Promise<ApiResponse<T>>;
  sql<T = any>(text: string, params?: unknown[]): Promise<T[]>;
  sandboxAdmin<T = any>(method: string, path: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}

/**
 * Boots the real notification service over HTTP on 127.0.0.1 with its own PostgreSQL database
 * (cloned from the migrated template), its own Redis key prefix and its own provider sandbox.
 */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const ownsSandbox = !options.shareWith && !isRunningSandbox(options.sandbox);
  const sandbox: RunningSandbox = options.shareWith
    ? options.shareWith.sandbox
    : isRunningSandbox(options.sandbox)
      ? options.sandbox
      : await (options.sandboxProcess ? forkSandbox : startSandbox)({
          ...SANDBOX_DEFAULTS,
          ...(options.sandbox ?? {}),
        });

  const suffix = randomBytes(4).toString('hex');
  const stack = throwaway({
    adminUrl: PG_ADMIN_URL,
    // Where the service keeps its keys, so that closing deletes them there (e.g. a cluster).
    redisUrl: options.env?.REDIS_URL ?? REDIS_URL,
    databaseName: options.shareWith?.databaseName ?? `${databasePrefix()}_${suffix}`,
    queuePrefix: options.shareWith?.queuePrefix ?? `${redisPrefix()}-${suffix}`,
  });
  const { databaseName, queuePrefix } = stack;
  if (!options.shareWith) await createDatabase(PG_ADMIN_URL, databaseName, templateDatabase());

  const port = await freePort();
  const env: Record<string, string> = {
    PORT: String(port),
    DATABASE_URL: stack.databaseUrl,
    REDIS_URL,
    QUEUE_PREFIX: queuePrefix,
    SMS_PROVIDER_BASE_URL: sandbox.url,
    SMS_PROVIDER_API_KEY: SANDBOX_KEY,
    SMS_PROVIDER_WEBHOOK_SECRET: sandbox.config.webhookSecret,
    // One public address per stack, as behind a load balancer: a worker-only instance serves no
    // webhook route, so a second instance points the provider at the first one.
    PUBLIC_BASE_URL: options.shareWith?.env.PUBLIC_BASE_URL ?? `http://127.0.0.1:${port}`,
    ADMIN_API_KEY: ADMIN_KEY,
    CONSOLE_DIR: CONSOLE_DIST,
    LOG_LEVEL: 'silent',
    // The tests' callback receivers listen on 127.0.0.1, which callbacks refuse by default.
    CALLBACK_ALLOW_LOOPBACK: 'true',
    // Every test client is 127.0.0.1, and many tests check 401s: the limit gets its own test.
    AUTH_FAILURE_LIMIT: '1000000',
    SWEEP_INTERVAL_MS: '500',
    CREDITS_CHECK_INTERVAL_MS: '500',
    SEND_RETRY_BASE_MS: '100',
    SEND_RETRY_MAX_MS: '1000',
    ...(options.env ?? {}),
  };
  const config = loadConfig(env);
  const app = await startApp(config, '127.0.0.1');
  const url = `http://127.0.0.1:${port}`;

  const db = new Client({ connectionString: stack.databaseUrl });
  await db.connect();

  let closed = false;
  return {
    app,
    config,
    url,
    sandbox,
    databaseName,
    queuePrefix,
    env,
    api: (method, path, apiOptions = {}) =>
      callApi(url, method, path, {
        ...apiOptions,
        key: apiOptions.key === undefined ? ADMIN_KEY : apiOptions.key,
      }),
    sql: async (text, params) => (await db.query(text, params)).rows,
    sandboxAdmin: (method, path, body) => sandboxAdmin(sandbox.adminUrl, method, path, body),
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
      await db.end();
      if (ownsSandbox) await sandbox.close();
      if (!options.shareWith) await stack.remove();
    },
  };
}

/** Creates a template with the admin key; returns its key. */
export async function createTemplate(
  h: Harness,
  key: string,
  body: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const res = await h.api('POST', '/v1/templates', { body: { key, body, ...extra } });
  if (res.status !== 201) throw new Error(`template ${key}: ${res.status} ${res.text}`);
  return key;
}

/** Waits until every message of the notification is in a final state and returns it. */
export async function waitForFinal(
  h: Harness,
  notificationId: string,
  timeoutMs = 30_000,
): Promise<any> {
  return waitFor(
    async () => {
      const res = await h.api('GET', `/v1/notifications/${notificationId}`);
      const done =
        res.status === 200 &&
        res.body.messages.every((m: { status: MessageStatus }) => isTerminal(m.status));
      return done ? res.body : null;
    },
    { timeoutMs, intervalMs: 100, what: `notification ${notificationId} to finish` },
  );
}

function isRunningSandbox(value: unknown): value is RunningSandbox {
  return typeof value === 'object' && value !== null && 'adminUrl' in value && 'close' in value;
}
