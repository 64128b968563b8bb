import type { DataSourceOptions } from 'typeorm';
import { ENTITIES, MIGRATIONS } from './entities';

/** One definition of how we talk to PostgreSQL, shared by the app, the CLI and the tests. */
export function databaseOptions(url: string): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: false,
    migrationsTransactionMode: 'each',
    synchronize: false,
    // TypeORM's query logger prints parameters (phone numbers among them); failures surface as
    // exceptions and are logged, masked, where they are handled.
    logging: false,
    extra: { max: 20, application_name: 'notification-service' },
  };
}
