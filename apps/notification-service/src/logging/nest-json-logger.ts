import type { LoggerService } from '@nestjs/common';
import type { Logger } from 'pino';

/**
 * Nest's own lines (start-up, shutdown, a module failing to load) as JSON, for the moments when
 * no request context exists and the app's logger is not built yet.
 */
export class NestJsonLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.write('info', message, context);
  }
  warn(message: unknown, context?: string): void {
    this.write('warn', message, context);
  }
  debug(message: unknown, context?: string): void {
    this.write('debug', message, context);
  }
  verbose(message: unknown, context?: string): void {
    this.write('trace', message, context);
  }
  fatal(message: unknown, context?: string): void {
    this.write('fatal', message, context);
  }
  error(message: unknown, stackOrContext?: string, context?: string): void {
    const where = context ?? (stackOrContext?.includes('\n') ? undefined : stackOrContext);
    const stack = stackOrContext?.includes('\n') ? stackOrContext : undefined;
    if (message instanceof Error)
      this.logger.error({ err: message, context: where }, message.message);
    else this.logger.error({ context: where, stack }, String(message));
  }

  private write(
    level: 'info' | 'warn' | 'debug' | 'trace' | 'fatal',
    message: unknown,
    context?: string,
  ): void {
    if (typeof message === 'object' && message !== null)
      this.logger[level]({ context, ...message });
    else this.logger[level]({ context }, String(message));
  }
}
