import { ConsoleLogger, Inject, Injectable, type LogLevel } from '@nestjs/common';
import { SANDBOX_CONFIG, type SandboxConfig, type SandboxLogLevel } from '../config';

const LEVELS: Readonly<Record<SandboxLogLevel, LogLevel[]>> = {
  silent: [],
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  log: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
};

export function nestLogLevels(level: SandboxLogLevel): LogLevel[] {
  return [...LEVELS[level]];
}

/**
 * The sandbox's own logger, one per app. Nest's `logger` option and Logger.overrideLogger() are
 * process-wide: a sandbox started inside another app's test process must not silence or re-level
 * that app's logs, so only main.ts (which owns its process) touches the global logger.
 * Callers pass numbers through maskPhone() and never pass API keys.
 */
@Injectable()
export class SandboxLogger {
  private readonly console: ConsoleLogger;

  constructor(@Inject(SANDBOX_CONFIG) config: SandboxConfig) {
    this.console = new ConsoleLogger('SmsProviderSandbox', {
      logLevels: nestLogLevels(config.logLevel),
    });
  }

  debug(message: string, context: string): void {
    this.console.debug(message, context);
  }

  log(message: string, context: string): void {
    this.console.log(message, context);
  }

  warn(message: string, context: string): void {
    this.console.warn(message, context);
  }

  error(message: string, context: string): void {
    this.console.error(message, context);
  }
}
