import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireScope } from '../auth/auth.decorators';
import type { Principal } from '../auth/scopes';
import { CallbackDeliveryList } from './callbacks.dto';
import { CallbacksService } from './callbacks.service';
import { CALLBACK_DELIVERY, LATER } from '../common/openapi/examples';
import { Operation } from '../common/openapi/operation.decorator';

@ApiTags('callbacks')
@ApiBearerAuth()
@Controller('v1/notifications/:id/callbacks')
export class CallbackDeliveriesController {
  constructor(private readonly callbacks: CallbacksService) {}

  @Operation({
    id: 'listCallbackDeliveries',
    summary: 'Status callbacks of a notification and their attempts',
    errors: { 404: ['notification_not_found'] },
    example: { data: [CALLBACK_DELIVERY] },
  })
  @Get()
  @RequireScope('notifications:read')
  @ApiOkResponse({
    type: CallbackDeliveryList,
    description: 'Every status callback of the notification and how it went',
  })
  list(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
  ): Promise<CallbackDeliveryList> {
    return this.callbacks.listDeliveries(principal, id);
  }

  @Operation({
    id: 'redeliverCallbacks',
    summary: 'Send the failed status callbacks of a notification again',
    errors: { 404: ['notification_not_found'] },
    example: {
      data: [
        { ...CALLBACK_DELIVERY, status: 'pending', delivered_at: null, redelivered_at: LATER },
      ],
    },
  })
  @Post('redeliver')
  @HttpCode(200)
  @RequireScope('notifications:send')
  @ApiOkResponse({
    type: CallbackDeliveryList,
    description:
      'The failed callbacks of the notification, queued again with a new round of attempts (none: empty list)',
  })
  redeliver(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
  ): Promise<CallbackDeliveryList> {
    return this.callbacks.redeliverFailed(principal, id);
  }
}
