/**
 * `npm run openapi`: writes the service's OpenAPI document to openapi.json at the repository root
 * (what `redocly lint` checks and clients are generated from). Builds the app in Nest's preview
 * mode: the routes and their decorators, no database or Redis connection.
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderOpenApi } from '../apps/notification-service/src/openapi/render';

async function main(): Promise<void> {
  const target = join(__dirname, '..', 'openapi.json');
  writeFileSync(target, await renderOpenApi());
  process.stdout.write(`wrote ${target}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`openapi: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
