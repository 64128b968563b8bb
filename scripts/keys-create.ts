/**
 * `npm run keys:create -- --team ops --scopes admin [--name NAME]`: mints an API key straight in
 * the database named by DATABASE_URL (the service's own configuration), for the first admin key
 * of a service that has no ADMIN_API_KEY. Prints the key once; only its hash is stored.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { DataSource } from 'typeorm';
import { CreateApiKeyDto } from '../apps/notification-service/src/auth/api-keys.dto';
import { ApiKeysRepository } from '../apps/notification-service/src/auth/api-keys.repository';
import { ApiKeysService } from '../apps/notification-service/src/auth/api-keys.service';
import { ApiKey } from '../apps/notification-service/src/auth/entities/api-key.entity';
import { loadConfig } from '../apps/notification-service/src/config/load-config';
import { databaseOptions } from '../apps/notification-service/src/database/database-options';
import {
  ensureDatabase,
  runMigrations,
} from '../apps/notification-service/src/database/ensure-database';

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
      `${why}\nusage: npm run keys:create -- --team ops --scopes admin [--name ops-admin]`,
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
