import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiHeader,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal, RequireScope } from '../auth/auth.decorators';
import type { Principal } from '../auth/scopes';
import { BadRequestError } from '../common/errors/api-error';
import {
  AcceptedNotification,
  CancelResult,
  ListNotificationsQuery,
  NotificationPage,
  NotificationView,
  SendNotificationDto,
} from './notifications.dto';
import { NotificationsService } from './notifications.service';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

@ApiTags('notifications')
@ApiBearerAuth()
@Controller('v1/notifications')
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @Post()
  @HttpCode(202)
  @RequireScope('notifications:send')
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'Same key + same body within 24 h returns the original response',
  })
  @ApiAcceptedResponse({ type: AcceptedNotification })
  send(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: SendNotificationDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ): Promise<AcceptedNotification> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new BadRequestError(
        'Idempotency-Key must be 1-255 printable ASCII characters without spaces',
        undefined,
        'invalid_idempotency_key',
      );
    }
    return this.notifications.accept(principal, dto, idempotencyKey);
  }

  @Get()
  @RequireScope('notifications:read')
  @ApiOkResponse({ type: NotificationPage })
  list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListNotificationsQuery,
  ): Promise<NotificationPage> {
    return this.notifications.list(principal, query);
  }

  @Get(':id')
  @RequireScope('notifications:read')
  @ApiOkResponse({ type: NotificationView })
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
  ): Promise<NotificationView> {
    return this.notifications.get(principal, id);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @RequireScope('notifications:send')
  @ApiOkResponse({ type: CancelResult })
  cancel(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<CancelResult> {
    return this.notifications.cancel(principal, id);
  }
}
