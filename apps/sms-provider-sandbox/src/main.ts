import { Logger } from '@nestjs/common';
import { startSandbox } from './bootstrap';
import { nestLogLevels } from './common/sandbox-logger';
import { loadSandboxConfig, resolveSandboxConfig, type SandboxConfig } from './config';

async function main(): Promise<void> {
  let config: SandboxConfig;
  try {
    config = resolveSandboxConfig(loadSandboxConfig(process.env));
  } catch (error) {
    // One line naming the variable; a stack trace would only bury it.
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }

  // This process is the sandbox's alone, so the global Nest logger may follow its level.
  Logger.overrideLogger(nestLogLevels(config.logLevel));
  const sandbox = await startSandbox(config);
  const logger = new Logger('SmsProviderSandbox');
  // Plans only: the keys themselves are secrets even in a sandbox.
  const plans = config.apiKeys.map((seed) => seed.plan).join(', ');
  logger.log(`SMS provider sandbox listening on ${sandbox.url} (admin: ${sandbox.adminUrl})`);
  logger.log(`${config.apiKeys.length} API key(s) configured (plans: ${plans})`);

  const shutdown = (signal: string) => {
    logger.log(`${signal} received, shutting down`);
    sandbox.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error(`Shutdown failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  console.error(
    `SMS provider sandbox failed to start: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
});
