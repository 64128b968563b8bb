import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKeyGuard } from './api-key.guard';
import { AuthBlocksController } from './auth-blocks.controller';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';
import { AuthFailureLimiter } from './auth-failure-limiter';
import { ApiKey } from './entities/api-key.entity';
import { FirstAdminKeyCheck } from './first-admin-key.check';
import { RequestAuthenticator } from './request-authenticator';

/**
 * Every role authenticates (the guard is global), but only the API role serves key management:
 * a worker-only process answers nothing but health and metrics.
 */
@Module({})
export class AuthModule {
  static forRole(servesApi: boolean): DynamicModule {
    return {
      module: AuthModule,
      imports: [TypeOrmModule.forFeature([ApiKey])],
      controllers: servesApi ? [ApiKeysController, AuthBlocksController] : [],
      providers: [
        ApiKeysRepository,
        ApiKeysService,
        AuthFailureLimiter,
        RequestAuthenticator,
        FirstAdminKeyCheck,
        { provide: APP_GUARD, useClass: ApiKeyGuard },
      ],
      exports: [ApiKeysService, RequestAuthenticator],
    };
  }
}
