import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client } from 'pg';
import { startApp } from '../../apps/notification-service/src/bootstrap';
import type { AppConfig } from '../../apps/notification-service/src/config/app-config';
import { loadConfig } from '../../apps/notification-service/src/config/load-config';
import { type RunningSandbox, startSandbox } from '../../apps/sms-provider-sandbox/src/bootstrap';
import type { SandboxOverrides } from '../../apps/sms-provider-sandbox/src/config';
import { deleteRedisKeys } from './global-teardown';
import { startSandboxProcess } from './sandbox-process';
import {
  databasePrefix,
  databaseUrl,
  PG_ADMIN_URL,
  REDIS_URL,
  redisPrefix,
  templateDatabase,
} from './test-env';
export { freePort } from './free-port';
import { freePort } from './free-port';

// Nest's start-up lines ("Mapped {/v1/messages, POST} route") for every app of every test.
Logger.overrideLogger(false);

export const ADMIN_KEY = 'test-admin-key-0123456789abcdef';
export const SANDBOX_KEY = 'sk_test_e2e';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export interface ApiOptions {
  body?: unknown;
  /** Sent as-is (for malformed-body tests) instead of JSON-encoding `body`. */
  rawBody?: string;
  headers?: Record<string, string>;
  /** Bearer key; defaults to the admin key, `null` sends none. */
  key?: string | null;
}

export interface HarnessOptions {
  /** Extra service environment (e.g. SEND_MAX_ATTEMPTS). */
  env?: Record<string, string>;
  /** Sandbox settings, or an already running sandbox to share. */
  sandbox?: SandboxOverrides | RunningSandbox;
  /** Run an own sandbox in a separate process (see startSandboxProcess), not in this one. */
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
      : await (options.sandboxProcess ? startSandboxProcess : startSandbox)({
          port: 0,
          apiKeys: `${SANDBOX_KEY}:standard:1000000`,
          sentDelayMs: 50,
          deliveredDelayMs: 100,
          webhookRetryBaseMs: 50,
          logLevel: 'silent',
          ...(options.sandbox ?? {}),
        });

  const suffix = randomBytes(4).toString('hex');
  const databaseName = options.shareWith?.databaseName ?? `${databasePrefix()}_${suffix}`;
  const queuePrefix = options.shareWith?.queuePrefix ?? `${redisPrefix()}-${suffix}`;
  if (!options.shareWith) await cloneTemplate(databaseName);

  const port = await freePort();
  const env: Record<string, string> = {
    PORT: String(port),
    DATABASE_URL: databaseUrl(databaseName),
    REDIS_URL,
    QUEUE_PREFIX: queuePrefix,
    SMS_PROVIDER_BASE_URL: sandbox.url,
    SMS_PROVIDER_API_KEY: SANDBOX_KEY,
    SMS_PROVIDER_WEBHOOK_SECRET: sandbox.config.webhookSecret,
    // One public address per stack, as behind a load balancer: a worker-only instance serves no
    // webhook route, so a second instance points the provider at the first one.
    PUBLIC_BASE_URL: options.shareWith?.env.PUBLIC_BASE_URL ?? `http://127.0.0.1:${port}`,
    ADMIN_API_KEY: ADMIN_KEY,
    LOG_LEVEL: 'silent',
    SWEEP_INTERVAL_MS: '500',
    CREDITS_CHECK_INTERVAL_MS: '500',
    SEND_RETRY_BASE_MS: '100',
    SEND_RETRY_MAX_MS: '1000',
    ...(options.env ?? {}),
  };
  const config = loadConfig(env);
  const app = await startApp(config, '127.0.0.1');
  const url = `http://127.0.0.1:${port}`;

  const db = new Client({ connectionString: databaseUrl(databaseName) });
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
    api: (method, path, apiOptions) => callApi(url, method, path, apiOptions),
    sql: async (text, params) => (await db.query(text, params)).rows,
    sandboxAdmin: async (method, path, body) => {
      const response = await fetch(`${sandbox.adminUrl}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      if (!response.ok)
        throw new Error(`sandbox admin ${method} ${path}: ${response.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
      await db.end();
      if (ownsSandbox) await sandbox.close();
      if (!options.shareWith) {
        await dropDatabase(databaseName);
        await deleteRedisKeys(`${queuePrefix}*`);
      }
    },
  };
}

export async function callApi<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  options: ApiOptions = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  const key = options.key === undefined ? ADMIN_KEY : options.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  if ((response.headers.get('content-type') ?? '').includes('json') && text)
    parsed = JSON.parse(text);
  return { status: response.status, body: parsed as T, text, headers: response.headers };
}

/** Polls `check` until it returns a truthy value; fails with the last value seen at the deadline. */
export async function waitFor<T>(
  check: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  { timeoutMs = 20_000, intervalMs = 50, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    last = await check();
    if (last) return last as T;
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(last)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
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

const TERMINAL = ['delivered', 'failed', 'expired', 'canceled'];

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
        res.body.messages.every((m: { status: string }) => TERMINAL.includes(m.status));
      return done ? res.body : null;
    },
    { timeoutMs, intervalMs: 100, what: `notification ${notificationId} to finish` },
  );
}

function isRunningSandbox(value: unknown): value is RunningSandbox {
  return typeof value === 'object' && value !== null && 'adminUrl' in value && 'close' in value;
}

async function cloneTemplate(name: string): Promise<void> {
  const admin = new Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${templateDatabase()}"`);
  } finally {
    await admin.end();
  }
}

async function dropDatabase(name: string): Promise<void> {
  const admin = new Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
