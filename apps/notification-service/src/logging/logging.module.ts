import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { maskPhonesIn } from './mask';

/**
 * Structured JSON logs. Authorization headers, signatures and anything that looks like a phone
 * number never reach the output unmasked, whoever wrote the log line.
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        pinoHttp: {
          level: config.logLevel,
          redact: {
            paths: [
              'req.headers.authorization',
              'req.headers["x-smsprovider-signature"]',
              'req.headers.cookie',
              'req.headers["idempotency-key"]',
            ],
            censor: '[redacted]',
          },
          // Health and metrics scrapes would drown everything else.
          autoLogging: { ignore: (req) => /^\/(health|metrics)/.test(req.url ?? '') },
          hooks: {
            logMethod(args, method) {
              method.apply(
                this,
                args.map((a) => (typeof a === 'string' ? maskPhonesIn(a) : a)) as typeof args,
              );
            },
          },
          formatters: {
            log: (object: Record<string, unknown>) => maskDeep(object) as Record<string, unknown>,
          },
        },
      }),
    }),
  ],
})
export class LoggingModule {}

function maskDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskPhonesIn(value);
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, depth + 1));
  if (value instanceof Error) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = maskDeep(v, depth + 1);
  return out;
}
