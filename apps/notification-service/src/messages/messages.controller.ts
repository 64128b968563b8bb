import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal, RequireScope } from '../auth/auth.decorators';
import type { Principal } from '../auth/scopes';
import {
  BulkResendDto,
  BulkResendResult,
  MessageDetail,
  MessagePage,
  ResendResult,
  SearchMessagesQuery,
} from './messages.dto';
import { MessagesService } from './messages.service';
import {
  FAILED_SUMMARY,
  MESSAGE_ID,
  MESSAGE_SUMMARY,
  RESENT_ID,
  TIMELINE,
} from '../common/openapi/examples';
import { Operation } from '../common/openapi/operation.decorator';

@ApiTags('messages')
@ApiBearerAuth()
@Controller('v1/messages')
export class MessagesController {
  constructor(private readonly messages: MessagesService) {}

  @Operation({
    id: 'searchMessages',
    errors: { 422: ['invalid_cursor', 'invalid_limit'] },
    example: { data: [MESSAGE_SUMMARY], next_cursor: null },
  })
  @Get()
  @RequireScope('notifications:read')
  @ApiOperation({
    summary: 'Find messages by number, provider id, status, error code, template or time',
    description:
      'Newest first, keyset-paged (next_cursor). Numbers match exactly in E.164 and are masked ' +
      'in the answer. Non-admin keys see only their team.',
  })
  @ApiOkResponse({ type: MessagePage })
  search(
    @CurrentPrincipal() principal: Principal,
    @Query() query: SearchMessagesQuery,
  ): Promise<MessagePage> {
    return this.messages.search(principal, query);
  }

  @Operation({
    id: 'resendMessages',
    errors: { 422: ['not_resendable'] },
    example: { matched: 15, resent: 15, remaining: 0, dry_run: false },
  })
  @Post('resend')
  @HttpCode(200)
  @RequireScope('notifications:send')
  @ApiOperation({
    summary: 'Resend every failed or expired message matching a filter (dry_run counts them)',
    description:
      'Each becomes a new message linked by resend_of, oldest first, at most 1000 per call ' +
      '(remaining says how many are left). Messages already resent are not matched, so a ' +
      'repeated call sends nothing twice.',
  })
  @ApiOkResponse({ type: BulkResendResult })
  bulkResend(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: BulkResendDto,
  ): Promise<BulkResendResult> {
    return this.messages.bulkResend(principal, dto);
  }

  @Operation({
    id: 'getMessage',
    errors: { 404: ['message_not_found'] },
    example: { ...MESSAGE_SUMMARY, events: TIMELINE },
  })
  @Get(':id')
  @RequireScope('notifications:read')
  @ApiOperation({ summary: 'One message with its timeline (every event, its source and time)' })
  @ApiOkResponse({ type: MessageDetail })
  @ApiNotFoundResponse({ description: 'message_not_found (also for another team’s message)' })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<MessageDetail> {
    return this.messages.get(principal, id);
  }

  @Operation({
    id: 'resendMessage',
    errors: { 404: ['message_not_found'], 409: ['not_resendable'] },
    example: {
      created: true,
      message: {
        ...FAILED_SUMMARY,
        id: RESENT_ID,
        status: 'pending',
        error: null,
        attempts: 0,
        provider_message_id: null,
        queued_at: null,
        completed_at: null,
        resend_of: MESSAGE_ID,
      },
    },
  })
  @Post(':id/resend')
  @RequireScope('notifications:send')
  @ApiOperation({
    summary: 'Send a failed or expired message again, as a new message linked by resend_of',
    description:
      '201 with the new message; 200 with created=false and the earlier resend when this message ' +
      'was resent already (a message is resent at most once; resend the new one to try again).',
  })
  @ApiOkResponse({ type: ResendResult })
  @ApiConflictResponse({ description: 'not_resendable: the message is not failed or expired' })
  @ApiNotFoundResponse({ description: 'message_not_found' })
  async resend(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ResendResult> {
    const result = await this.messages.resend(principal, id);
    void reply.status(result.created ? 201 : 200);
    return result;
  }
}
