import type { IncomingMessage } from 'node:http';
import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { accessLineLeftOut } from '../common/http/quiet-access-line';
import { AppConfig } from '../config/app-config';
import { createRootLogger, serializers } from './root-logger';

/** Probes and scrapes every few seconds would drown everything else. */
const UNLOGGED = /^\/(health|metrics)(\/|\?|$)/;

function pathOf(req: IncomingMessage): string {
  return (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '';
}

/**
 * Structured JSON logs: one access line per request with its real status and duration, and every
 * line written while handling it tagged with its `request_id`. Keys, signatures and message
 * bodies never reach the output; phone numbers only masked, whoever wrote the line.
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        pinoHttp: {
          logger: createRootLogger(config.logLevel),
          quietReqLogger: true,
          customAttributeKeys: { reqId: 'request_id', responseTime: 'response_time_ms' },
          serializers: { req: serializers.req, res: serializers.res, err: serializers.err },
          customLogLevel: (req, res, error) =>
            accessLineLeftOut(req)
              ? 'silent'
              : error || res.statusCode >= 500
                ? 'error'
                : res.statusCode >= 400
                  ? 'warn'
                  : 'info',
          customSuccessMessage: (req, res) =>
            `${req.method} ${res.statusCode} ${serializers.req({ method: '', url: pathOf(req), id: '' }).url}`,
          autoLogging: { ignore: (req) => UNLOGGED.test(pathOf(req)) },
        },
      }),
    }),
  ],
})
export class LoggingModule {}
