import { Module } from '@nestjs/common';
import { SuppressionsController } from './suppressions.controller';
import { SuppressionsRepository } from './suppressions.repository';
import { SuppressionsService } from './suppressions.service';

/** The suppression list's HTTP API (the API role); intake reads it through SuppressionsStoreModule. */
@Module({
  controllers: [SuppressionsController],
  providers: [SuppressionsRepository, SuppressionsService],
})
export class SuppressionsModule {}
