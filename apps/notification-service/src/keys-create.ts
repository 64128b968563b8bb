/**
 * Mints an API key straight in the database named by DATABASE_URL (the service's own
 * configuration), for the first admin key of a service that has no ADMIN_API_KEY. Prints the key
 * once; only its hash is stored. A second entry point of the service, so the image has it too:
 *
 *   npm run keys:create -- --team ops --scopes admin [--name NAME]          (a checkout)
 *   node dist/apps/notification-service/keys-create.js --team ops --scopes admin   (the image)
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { DataSource } from 'typeorm';
import { CreateApiKeyDto } from './auth/api-keys.dto';
import { ApiKeysRepository } from './auth/api-keys.repository';
import { localRowCaches } from './cache/invalidated-cache';
import { ApiKeysService } from './auth/api-keys.service';
import { ApiKey } from './auth/entities/api-key.entity';
import { loadConfig } from './config/load-config';
import { databaseOptions } from './database/database-options';
import { ensureDatabase, runMigrations } from './database/ensure-database';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      team: { type: 'string' },
      scopes: { type: 'string' },
      name: { type: 'string' },
    },
  });
  const dto = plainToInstance(CreateApiKeyDto, {
    team: values.team,
    scopes: (values.scopes ?? '').split(',').filter(Boolean),
    name: values.name ?? `${values.team ?? 'unnamed'}-key`,
  });
  const problems = await validate(dto);
  if (problems.length > 0) {
    const why = problems.flatMap((p) => Object.values(p.constraints ?? {})).join('; ');
    throw new Error(
      `${why}\nusage: npm run keys:create -- --team ops --scopes admin [--name ops-admin]\n` +
        `   or: node dist/apps/notification-service/keys-create.js --team ops --scopes admin`,
    );
  }
  const config = loadConfig(process.env);
  // The same start as the service's: a fresh database gets created and migrated first.
  await ensureDatabase(config.databaseUrl);
  await runMigrations(config.databaseUrl);
  const dataSource = new DataSource(databaseOptions(config.databaseUrl));
  await dataSource.initialize();
  try {
    const keys = new ApiKeysService(
      new ApiKeysRepository(dataSource.getRepository(ApiKey)),
      localRowCaches(),
      config,
    );
    const created = await keys.create(dto);
    process.stdout.write(
      `Created key ${created.id} (${created.name}, team ${created.team}, scopes ${created.scopes.join(',')}).\n` +
        `It is shown once; store it now:\n\n${created.key}\n`,
    );
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`keys:create: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
