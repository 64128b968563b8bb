import { Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { installAuthenticationGate } from './auth/authentication-gate';
import { RequestAuthenticator } from './auth/request-authenticator';
import { createValidationPipe } from './common/errors/validation';
import { capConnections, serverTimeouts } from './common/http/connection-limits';
import {
  clientErrorReply,
  frameworkErrorReply,
  installRequestRules,
} from './common/http/fastify-request-rules';
import { ACCOUNT_WEBHOOK_ROUTE, type AppConfig, PROVIDER_WEBHOOK_PATH } from './config/app-config';
import { productionWarnings } from './config/production-warnings';
import { trustedProxyMatcher } from './config/trusted-proxies';
import { serveConsole } from './console/serve-console';
import { installCsvImportBody } from './suppressions/csv-import-body';
import { REQUEST_ID_HEADER, requestIdOf } from './logging/root-logger';
import { MetricsService } from './metrics/metrics.service';
import { buildOpenApiDocument } from './openapi/document';
import { installWebhookGate } from './webhooks/webhook-gate';

/** Request bodies larger than this are refused with 413 (1000 recipients fit easily). */
const BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * Signals that close the application gracefully. Not Nest's default (every signal it knows):
 * that list includes SIGABRT, SIGSEGV and SIGBUS, and a handler for those, which only runs on the
 * event loop, leaves a process whose V8 has aborted (out of memory, an invalid string size) stuck
 * in the abort for good instead of dying, so no supervisor ever restarts it.
 */
export const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** Builds the application for `config` without listening: main.ts, the demo and tests share it. */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    // X-Forwarded-For believed only for the hops (or addresses) the operator names: the client is
    // the rightmost address not trusted, never the leftmost a client can write itself.
    trustProxy: config.trustProxy as false | number | string[],
    // A client that is slow or idle cannot hold a socket: 408 and closed (clientErrorReply).
    ...serverTimeouts(config.http),
    requestIdHeader: false,
    genReqId: requestIdOf,
    // Fastify's own refusals, before any hook or filter runs, still answer in the envelope.
    frameworkErrors: frameworkErrorReply,
    clientErrorHandler: clientErrorReply,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    // Bodies are parsed by installRequestRules (below), which keeps the raw bytes too.
    bodyParser: false,
    bufferLogs: true,
    // Throw instead of exiting: main.ts reports it, and a test sees why start-up failed.
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  for (const warning of productionWarnings(config)) app.get(Logger).warn(warning, 'Config');
  const fastify = app.getHttpAdapter().getInstance();
  // Every answer names its request, errors and 404s included: what a caller quotes to us.
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
  const metrics = app.get(MetricsService);
  fastify.addHook('onResponse', (request, reply, done) => {
    metrics.httpDuration.observe(
      {
        method: request.method,
        // The route's template (/v1/notifications/:id), never the raw URL: bounded label values.
        route: request.routeOptions.url ?? 'unmatched',
        status_class: `${Math.floor(reply.statusCode / 100)}xx`,
      },
      reply.elapsedTime / 1000,
    );
    done();
  });
  installRequestRules(fastify, {
    unparsedBodyPaths: [PROVIDER_WEBHOOK_PATH, ACCOUNT_WEBHOOK_ROUTE],
  });
  installCsvImportBody(fastify);
  installAuthenticationGate(fastify, app.get(RequestAuthenticator));
  installWebhookGate(fastify);
  const httpLogger = new NestLogger('Http');
  capConnections(fastify.server, config.http, trustedProxyMatcher(config.trustProxy), {
    onRefused: (reason, address, count) =>
      httpLogger.warn(
        reason === 'per_address'
          ? `Refused ${count} connection(s) from ${address}: over HTTP_MAX_CONNECTIONS_PER_ADDRESS (${config.http.maxConnectionsPerAddress})`
          : `Refused ${count} connection(s): over the total connection cap (HTTP_MAX_CONNECTIONS or the open-files limit)`,
      ),
  });
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks([...SHUTDOWN_SIGNALS]);

  if (config.runsApi) {
    const document = buildOpenApiDocument(app, config.publicBaseUrl);
    SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/json' });
    await serveConsole(app, config);
  }
  return app;
}

export async function startApp(
  config: AppConfig,
  host = config.host,
): Promise<NestFastifyApplication> {
  const app = await createApp(config);
  await app.listen(config.port, host);
  return app;
}
