import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ApiKeysRepository } from './api-keys.repository';

export const CREATE_ADMIN_KEY_COMMAND =
  'npm run keys:create -- --team ops --scopes admin (in the image: node dist/apps/notification-service/keys-create.js --team ops --scopes admin)';

/**
 * A service with neither ADMIN_API_KEY nor an admin key in its database answers every call with
 * 401 and offers no way out over HTTP: say so at start-up, with the command that mints the first.
 */
@Injectable()
export class FirstAdminKeyCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger('Auth');

  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.adminApiKey || !this.config.runsApi) return;
    if (await this.keys.hasActiveAdminKey()) return;
    this.logger.warn(
      `No admin key: ADMIN_API_KEY is unset and the database holds no key with the admin scope, so nobody can create keys. Create the first one with: ${CREATE_ADMIN_KEY_COMMAND}`,
    );
  }
}
