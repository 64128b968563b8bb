import { Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { fastifyErrorStatus } from './common/errors/all-exceptions.filter';
import { codeForStatus, envelope } from './common/errors/error-envelope';
import { createValidationPipe } from './common/errors/validation';
import type { AppConfig } from './config/app-config';

/** Request bodies larger than this are refused with 413 (1000 recipients fit easily). */
const BODY_LIMIT_BYTES = 1024 * 1024;

/** Builds the application for `config` without listening: main.ts, the demo and tests share it. */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES, trustProxy: true });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    rawBody: true,
    bufferLogs: true,
    // Throw instead of exiting: main.ts reports it, and a test sees why start-up failed.
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();

  // Errors Fastify raises before Nest sees the request (bad JSON, body too large, wrong content
  // type) get the same envelope as everything else.
  app
    .getHttpAdapter()
    .getInstance()
    .setErrorHandler((error: FastifyError, _req: FastifyRequest, reply: FastifyReply) => {
      const status = fastifyErrorStatus(error) ?? 500;
      const message = status === 500 ? 'Internal server error' : error.message;
      if (status === 500) new NestLogger('Fastify').error(error.stack ?? error.message);
      void reply.status(status).send(envelope(codeForStatus(status), message));
    });

  if (config.runsApi) {
    const document = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Notification service')
        .setDescription('Templates, SMS notifications, delivery status and reports')
        .setVersion('1')
        .addBearerAuth()
        .build(),
    );
    SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/json' });
  }
  return app;
}

export async function startApp(
  config: AppConfig,
  host = '0.0.0.0',
): Promise<NestFastifyApplication> {
  const app = await createApp(config);
  await app.listen(config.port, host);
  return app;
}
