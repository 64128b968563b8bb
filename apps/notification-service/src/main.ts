import 'reflect-metadata';
import { Logger as NestLogger } from '@nestjs/common';
import { ConfigError, loadConfig } from './config/load-config';
import { createRootLogger } from './logging/root-logger';
import { NestJsonLogger } from './logging/nest-json-logger';
import { startTracing } from './tracing/tracing';

// Before the configuration is known (and for a bad one) lines are written at info.
let logger = createRootLogger(process.env.LOG_LEVEL?.trim() || 'info');

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      // One clear line naming the variable, and no stack trace to wade through.
      logger.fatal(error.message);
      process.exit(1);
    }
    throw error;
  }
  logger = createRootLogger(config.logLevel);
  // Before the app's modules load: instrumentation patches http, pg and ioredis as they load.
  const tracing = startTracing(config.tracing);
  if (tracing) {
    logger.info(`Tracing on: spans to ${String(config.tracing.otlpEndpoint)}`);
    process.once('beforeExit', () => void tracing.shutdown());
  }
  const { startApp } = await import('./bootstrap');
  // Nest's own lines (start-up, a module failing) in the same JSON as everything else.
  NestLogger.overrideLogger(new NestJsonLogger(logger));
  const app = await startApp(config);
  logger.info(
    { role: config.appRole, url: await app.getUrl() },
    `notification-service (${config.appRole}) listening on ${await app.getUrl()}`,
  );
}

main().catch((error: unknown) => {
  logger.fatal({ err: error }, `notification-service failed to start: ${String(error)}`);
  process.exit(1);
});
