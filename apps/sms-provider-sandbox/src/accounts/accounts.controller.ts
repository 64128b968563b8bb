import { Controller, Get } from '@nestjs/common';
import type { ProviderAccount } from '@app/sms-provider';
import { ProviderEndpoint } from '../common/provider-endpoint.decorator';
import type { Account } from './account';
import { AccountsService } from './accounts.service';
import { CurrentAccount } from './current-account.decorator';

@Controller('v1/account')
@ProviderEndpoint()
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @Get()
  get(@CurrentAccount() account: Account): ProviderAccount {
    return this.accounts.toWire(account);
  }
}
