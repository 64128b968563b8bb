import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '../config/load-config';
import { databaseOptions } from './database-options';

// For the TypeORM CLI (`npm run migration:generate|run`); the app builds its own DataSource.
export default new DataSource(databaseOptions(loadConfig(process.env).databaseUrl));
