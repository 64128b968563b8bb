import { Global, Module } from '@nestjs/common';
import { CacheInvalidation } from './cache-invalidation.service';

/** Local caches of rows (API keys, templates) invalidated across instances through Redis. */
@Global()
@Module({ providers: [CacheInvalidation], exports: [CacheInvalidation] })
export class CacheModule {}
