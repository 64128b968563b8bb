import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import type { SendMessageResponse } from '@app/sms-provider';
import type { Account } from '../accounts/account';
import { CurrentAccount } from '../accounts/current-account.decorator';
import { ProviderEndpoint } from '../common/provider-endpoint.decorator';
import { SendRoute } from '../faults/fault-target.decorator';
import type { MessageResponse } from './message.mapper';
import { MessagesService } from './messages.service';

@Controller('v1/messages')
@ProviderEndpoint()
export class MessagesController {
  constructor(private readonly messages: MessagesService) {}

  @Post()
  @SendRoute()
  @HttpCode(HttpStatus.OK)
  send(@CurrentAccount() account: Account, @Body() body: unknown): SendMessageResponse {
    return this.messages.send(account, body);
  }

  @Get(':id')
  get(@CurrentAccount() account: Account, @Param('id') id: string): MessageResponse {
    return this.messages.get(account, id);
  }
}
