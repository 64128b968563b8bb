import { Module } from '@nestjs/common';
import { SuppressionLookupRepository } from './suppression-lookup.repository';

/** The suppression list as intake reads it, without the HTTP API (SuppressionsModule). */
@Module({
  providers: [SuppressionLookupRepository],
  exports: [SuppressionLookupRepository],
})
export class SuppressionsStoreModule {}
