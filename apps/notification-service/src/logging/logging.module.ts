import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { accessLineLeftOut } from '../common/http/quiet-access-line';
import { AppConfig } from '../config/app-config';
import { accessStatusOf, describeOutcome, watchServerAnswers } from './access-status';
import { createRootLogger, serializers } from './root-logger';

/** Probes and scrapes every few seconds would drown everything else. */
const UNLOGGED = /^\/(health|metrics)(\/|\?|$)/;

function pathOf(req: IncomingMessage): string {
  return (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '';
}

/** `POST 202 /v1/notifications`, `POST aborted /v1/…`, `POST 408 (request timeout) /v1/…`. */
function accessMessage(req: IncomingMessage, res: ServerResponse): string {
  const url = serializers.req({ method: '', url: pathOf(req), id: '' }).url;
  return `${req.method} ${describeOutcome(res)} ${url}`;
}

function accessLevel(req: IncomingMessage, res: ServerResponse, error?: Error) {
  if (accessLineLeftOut(req)) return 'silent';
  const { statusCode, aborted } = accessStatusOf(res);
  if (error || (statusCode ?? 0) >= 500) return 'error';
  // Cut short (a client gone, a request timed out) is worth a look, like a 4xx.
  return aborted || (statusCode ?? 0) >= 400 ? 'warn' : 'info';
}

/** Fields added to the access line of an exchange cut short; nothing for a finished one. */
function cutShort(res: ServerResponse): { aborted?: true; timed_out?: true } {
  const { aborted, timedOut } = accessStatusOf(res);
  return { ...(aborted ? { aborted: true } : {}), ...(timedOut ? { timed_out: true } : {}) };
}

/** The line pino-http built (`res`, `response_time_ms`, an error) plus how it ended. */
function accessObject(res: ServerResponse, line: unknown): Record<string, unknown> {
  return { ...(line as Record<string, unknown>), ...cutShort(res) };
}

/**
 * Structured JSON logs: one access line per request with its real status and duration, and every
 * line written while handling it tagged with its `request_id`. Keys, signatures and message
 * bodies never reach the output; phone numbers only masked, whoever wrote the line. A request the
 * client abandoned, or the server timed out, says so (`aborted`, the 408 it was sent), never the
 * 200 a response object starts with.
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
          customLogLevel: accessLevel,
          customSuccessMessage: accessMessage,
          customErrorMessage: accessMessage,
          customSuccessObject: (_req, res, line) => accessObject(res, line),
          customErrorObject: (_req, res, _error, line) => accessObject(res, line),
          autoLogging: { ignore: (req) => UNLOGGED.test(pathOf(req)) },
        },
      }),
    }),
  ],
})
export class LoggingModule implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (server) watchServerAnswers(server);
  }
}
