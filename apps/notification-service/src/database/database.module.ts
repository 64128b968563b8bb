import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { databaseOptions } from './database-options';
import { ensureDatabase, runMigrations } from './ensure-database';

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: async (config: AppConfig) => {
        await ensureDatabase(config.databaseUrl);
        await runMigrations(config.databaseUrl);
        return { ...databaseOptions(config.databaseUrl), retryAttempts: 3, retryDelay: 1000 };
      },
    }),
  ],
})
export class DatabaseModule {}
