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
import {
  ACCEPTED_MESSAGE,
  MESSAGE_STATE,
  AT,
  LATER,
  MESSAGE_ID,
  NOTIFICATION,
  NOTIFICATION_ID,
  TIMELINE,
} from '../common/openapi/examples';
import { Operation } from '../common/openapi/operation.decorator';
import { RENDER_ERROR_CODES } from '../templates/render-error-codes';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

@ApiTags('notifications')
@ApiBearerAuth()
@Controller('v1/notifications')
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @Operation({
    id: 'sendNotification',
    summary: 'Send an SMS notification from a template',
    errors: {
      400: ['invalid_idempotency_key', 'invalid_timezone'],
      402: ['budget_exceeded'],
      404: ['template_not_found'],
      409: ['idempotency_in_progress'],
      429: ['team_backlog_full'],
      422: [
        'idempotency_conflict',
        'invalid_phone_number',
        'too_many_recipients',
        'invalid_expiry',
        'scheduled_at_in_past',
        'scheduled_at_too_far',
        'callback_url_credentials',
        ...RENDER_ERROR_CODES,
      ],
    },
    example: {
      id: NOTIFICATION_ID,
      status: 'accepted',
      template: 'order_shipped',
      template_version: 2,
      scheduled_at: null,
      messages: [
        ACCEPTED_MESSAGE,
        {
          ...ACCEPTED_MESSAGE,
          id: '5b0e2c1d-7a4f-4e0b-9c2d-3f6a8b1e4d77',
          to: '+4915112345678',
          status: 'failed',
          error: {
            code: 'recipient_suppressed',
            message:
              'The recipient is on the suppression list (scope all) for transactional messages',
          },
        },
      ],
    },
  })
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

  @Operation({
    id: 'listNotifications',
    summary: 'List notifications, newest first, with filters',
    errors: { 422: ['invalid_cursor', 'invalid_limit'] },
    example: { data: [NOTIFICATION], next_cursor: null },
  })
  @Get()
  @RequireScope('notifications:read')
  @ApiOkResponse({ type: NotificationPage })
  list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListNotificationsQuery,
  ): Promise<NotificationPage> {
    return this.notifications.list(principal, query);
  }

  @Operation({
    id: 'getNotification',
    summary: 'One notification with its messages and their timelines',
    errors: { 404: ['notification_not_found'] },
    example: {
      ...NOTIFICATION,
      messages: [
        {
          id: MESSAGE_ID,
          to: '+1415555****',
          status: 'delivered',
          provider_message_id: 'msg_8Jq2vX4p',
          provider_account: 'default',
          error: null,
          attempts: 1,
          segments: 1,
          category: 'transactional',
          scheduled_at: null,
          expires_at: '2026-12-02T09:30:00.000Z',
          encoding: 'GSM-7',
          characters: 33,
          credits_used: 1,
          submitted_at: AT,
          queued_at: AT,
          sent_at: LATER,
          delivered_at: LATER,
          updated_at: LATER,
          events: TIMELINE,
        },
      ],
    },
  })
  @Get(':id')
  @RequireScope('notifications:read')
  @ApiOkResponse({ type: NotificationView })
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
  ): Promise<NotificationView> {
    return this.notifications.get(principal, id);
  }

  @Operation({
    id: 'cancelNotification',
    summary: 'Cancel the messages of a notification not handed to the provider yet',
    errors: { 404: ['notification_not_found'] },
    example: {
      id: NOTIFICATION_ID,
      canceled: 1,
      messages: [{ ...MESSAGE_STATE, status: 'canceled' }],
    },
  })
  @Post(':id/cancel')
  @HttpCode(200)
  @RequireScope('notifications:send')
  @ApiOkResponse({ type: CancelResult })
  cancel(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<CancelResult> {
    return this.notifications.cancel(principal, id);
  }
}
