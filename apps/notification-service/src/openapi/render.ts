import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from '../app.module';
import { loadConfig } from '../config/load-config';
import { buildOpenApiDocument } from './document';

/** The base URL written into the committed document: the default of PUBLIC_BASE_URL. */
const DOCUMENT_BASE_URL = 'http://127.0.0.1:3000';

/**
 * The committed openapi.json text: the document of an `api` instance with the default
 * configuration, built in preview mode (no connection to anything) and pretty-printed.
 */
export async function renderOpenApi(): Promise<string> {
  const config = loadConfig({ APP_ROLE: 'api', PUBLIC_BASE_URL: DOCUMENT_BASE_URL });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config),
    new FastifyAdapter(),
    { preview: true, logger: false, abortOnError: false },
  );
  try {
    return `${JSON.stringify(buildOpenApiDocument(app, DOCUMENT_BASE_URL), null, 2)}\n`;
  } finally {
    await app.close();
  }
}
