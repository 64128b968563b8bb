import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AddressInfo } from 'node:net';
import { Clock } from './common/clock';
import { FaultsService } from './faults/faults.service';
import { registerNetworkDelayHooks } from './faults/network-delay.hooks';
import { resolveSandboxConfig, type SandboxConfig, type SandboxOverrides } from './config';
import { registerRequestLogHooks, ADMIN_PREFIX } from './request-log/request-log.hooks';
import { RequestLogService } from './request-log/request-log.service';
import { SandboxModule } from './sandbox.module';

export interface RunningSandbox {
  /** Base URL of the provider API, e.g. http://127.0.0.1:4010/v1 */
  url: string;
  /** Base URL of the admin routes, e.g. http://127.0.0.1:4010/__admin */
  adminUrl: string;
  port: number;
  /** The configuration in effect (defaults filled in). */
  config: SandboxConfig;
  close(): Promise<void>;
}

/**
 * Starts a sandbox; `port: 0` picks a free port. Overrides are checked like env values.
 * `logLevel` governs the sandbox's own lines; Nest's start-up lines follow the host process's
 * global Nest logger, which this function leaves alone.
 */
export async function startSandbox(overrides: SandboxOverrides = {}): Promise<RunningSandbox> {
  const config = resolveSandboxConfig(overrides);
  const app = await NestFactory.create<NestFastifyApplication>(
    SandboxModule.forRoot(config),
    // Fastify's own request logging would print Authorization headers and full URLs.
    new FastifyAdapter({ logger: false }),
    // No `logger` option: it is process-wide (see SandboxLogger); main.ts sets it for its process.
    // abortOnError off: throw instead of exiting, so a test sees why start-up failed.
    { abortOnError: false },
  );
  // Before listen() (which runs init and registers the routes), so the hooks cover every route.
  // The network first: a request is stamped and counted only once it has arrived.
  registerNetworkDelayHooks(app.getHttpAdapter().getInstance(), app.get(FaultsService));
  registerRequestLogHooks(
    app.getHttpAdapter().getInstance(),
    app.get(Clock),
    app.get(RequestLogService),
  );
  try {
    await app.listen(config.port, config.host);
  } catch (error) {
    await app.close();
    throw error;
  }

  const { port } = app.getHttpServer().address() as AddressInfo;
  const origin = `http://${displayHost(config.host)}:${port}`;
  return {
    url: `${origin}/v1`,
    adminUrl: `${origin}${ADMIN_PREFIX}`,
    port,
    config,
    close: () => app.close(),
  };
}

/** A wildcard bind address is not something a client can connect to; show loopback instead. */
function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
