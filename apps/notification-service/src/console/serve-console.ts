import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppConfig } from '../config/app-config';
import { envelope } from '../common/errors/error-envelope';

export const CONSOLE_PATH = '/console';

/**
 * Serves the web console's built files at /console/. It is static and talks to the API with the
 * key the user typed, so it needs nothing from the service but the files; a service started
 * without them says how to build them instead of answering a bare 404.
 */
export async function serveConsole(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.get(CONSOLE_PATH, (_request, reply) => reply.redirect(`${CONSOLE_PATH}/`, 302));
  if (!existsSync(join(config.consoleDir, 'index.html'))) {
    fastify.get(`${CONSOLE_PATH}/*`, (_request, reply) =>
      reply
        .status(404)
        .send(
          envelope(
            'console_not_built',
            `The console is not built in ${config.consoleDir}: run npm run build:console`,
          ),
        ),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root: config.consoleDir,
    prefix: `${CONSOLE_PATH}/`,
    // Swagger's UI registers the plugin too; only one may decorate the reply.
    decorateReply: false,
    // Hashed asset names change with their content; index.html must always be fetched anew.
    setHeaders: (res, path) => {
      res.header(
        'cache-control',
        path.endsWith('index.html') ? 'no-cache' : 'public, max-age=31536000, immutable',
      );
      res.header(
        'content-security-policy',
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
      );
      res.header('x-content-type-options', 'nosniff');
      res.header('referrer-policy', 'no-referrer');
    },
  });
}
