import 'reflect-metadata';
import { startApp } from './bootstrap';
import { ConfigError, loadConfig } from './config/load-config';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      // One clear line naming the variable, and no stack trace to wade through.
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const app = await startApp(config);
  process.stdout.write(
    `notification-service (${config.appRole}) listening on ${await app.getUrl()}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`notification-service failed to start: ${String(error)}\n`);
  process.exit(1);
});
