import { MESSAGE_FIELD_DOCS } from '../delivery-status/message-view';
import { MESSAGE_CATEGORIES, type MessageCategory } from '../common/message-category';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, IsUUID, Matches, MaxLength } from 'class-validator';
import { IsIsoInstant } from '../common/iso-instant';
import { MESSAGE_STATUSES } from '../delivery-status/message-status';
import { TEMPLATE_KEY_PATTERN } from '../templates/templates.dto';
import { MAX_TIMELINE_EVENTS } from '../delivery-status/message-search';

/** Same rule as intake: numbers are stored in strict E.164, so a search compares exactly. */
export const E164 = /^\+[1-9]\d{6,14}$/;
const ERROR_CODE = /^[a-z0-9_.-]{1,64}$/;
const PROVIDER_ID = /^[\x21-\x7e]{1,128}$/;
export const RESENDABLE_STATUSES = ['failed', 'expired'] as const;

/** Filters shared by the search and the bulk resend. */
export class MessageFilter {
  @ApiPropertyOptional({ example: 'failed', enum: MESSAGE_STATUSES })
  @IsOptional()
  @IsIn(MESSAGE_STATUSES)
  status?: string;

  @ApiPropertyOptional({ example: 'undeliverable', description: "The message's error code" })
  @IsOptional()
  @Matches(ERROR_CODE, { message: 'error_code must be 1-64 of a-z 0-9 _ . -' })
  error_code?: string;

  @ApiPropertyOptional({ example: 'order_shipped' })
  @IsOptional()
  @Matches(TEMPLATE_KEY_PATTERN, { message: 'template must be a template key' })
  template?: string;

  @ApiPropertyOptional({ description: 'Submitted at or after (ISO 8601 with offset)' })
  @IsOptional()
  @IsIsoInstant()
  since?: string;

  @ApiPropertyOptional({ description: 'Submitted before (ISO 8601 with offset)' })
  @IsOptional()
  @IsIsoInstant()
  until?: string;
}

export class SearchMessagesQuery extends MessageFilter {
  @ApiPropertyOptional({
    example: '+14155550100',
    description: 'Exact recipient in E.164; answers show it masked',
  })
  @IsOptional()
  @Matches(E164, { message: 'to must be a phone number in E.164 (+14155550100)' })
  to?: string;

  @ApiPropertyOptional({ example: 'msg_01HX…' })
  @IsOptional()
  @Matches(PROVIDER_ID, { message: 'provider_message_id must be 1-128 printable characters' })
  provider_message_id?: string;

  @ApiPropertyOptional({ description: 'Messages of this notification' })
  @IsOptional()
  @IsUUID()
  notification_id?: string;

  @ApiPropertyOptional({ description: "The notification's caller reference (exact)" })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  reference?: string;

  @ApiPropertyOptional({
    enum: MESSAGE_CATEGORIES,
    example: 'marketing',
    description: 'Messages of this category (frozen from their template version)',
  })
  @IsOptional()
  @IsIn(MESSAGE_CATEGORIES)
  category?: MessageCategory;

  @ApiPropertyOptional({ default: 50, description: '1-200' })
  @IsOptional()
  @Matches(/^\d{1,3}$/, { message: 'limit must be an integer between 1 and 200' })
  limit?: string;

  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}

export class BulkResendDto extends MessageFilter {
  @ApiPropertyOptional({
    default: false,
    description: 'true: only count what would be resent, send nothing',
  })
  @IsOptional()
  @IsBoolean()
  dry_run?: boolean;
}

export class MessageErrorSummary {
  @ApiProperty() code!: string;
  @ApiProperty({ description: 'Phone numbers inside are masked' }) message!: string;
}

export class MessageSummary {
  @ApiProperty() id!: string;
  @ApiProperty() notification_id!: string;
  @ApiProperty() team!: string;
  @ApiProperty() template!: string;
  @ApiProperty({ type: String, nullable: true }) reference!: string | null;
  @ApiProperty({ example: '+14*****0100', description: 'Recipient, masked' }) to!: string;
  @ApiProperty({ enum: MESSAGE_STATUSES }) status!: string;
  @ApiProperty({ type: String, nullable: true }) provider_message_id!: string | null;
  @ApiProperty(MESSAGE_FIELD_DOCS.provider_account) provider_account!: string | null;
  @ApiProperty({ type: MessageErrorSummary, nullable: true }) error!: MessageErrorSummary | null;
  @ApiProperty() attempts!: number;
  @ApiProperty() segments!: number;
  @ApiProperty(MESSAGE_FIELD_DOCS.category) category!: string;
  @ApiProperty(MESSAGE_FIELD_DOCS.scheduled_at) scheduled_at!: string | null;
  @ApiProperty(MESSAGE_FIELD_DOCS.expires_at) expires_at!: string | null;
  @ApiProperty() submitted_at!: string;
  @ApiProperty({ type: String, nullable: true }) queued_at!: string | null;
  @ApiProperty({ type: String, nullable: true }) delivered_at!: string | null;
  @ApiProperty({ type: String, nullable: true }) completed_at!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The message this one resends' })
  resend_of!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The message that resent this one' })
  resent_as!: string | null;
}

export class MessagePage {
  @ApiProperty({ type: MessageSummary, isArray: true }) data!: MessageSummary[];
  @ApiProperty({ type: String, nullable: true, description: 'Newest first; null on the last page' })
  next_cursor!: string | null;
}

export class TimelineEvent {
  @ApiProperty() type!: string;
  @ApiProperty({ type: String, nullable: true }) status!: string | null;
  @ApiProperty({ description: 'api, worker, webhook, poll, sweeper or callback' }) source!: string;
  @ApiProperty() occurred_at!: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true })
  details?: Record<string, unknown> | null;
}

export class MessageDetail extends MessageSummary {
  @ApiProperty({
    type: TimelineEvent,
    isArray: true,
    description: `Oldest first, at most ${MAX_TIMELINE_EVENTS} (a message has 6 at most today)`,
  })
  events!: TimelineEvent[];
}

export class ResendResult {
  @ApiProperty({ description: 'false: this message had been resent already; that one is shown' })
  created!: boolean;
  @ApiProperty({ type: MessageSummary }) message!: MessageSummary;
}

export class BulkResendResult {
  @ApiProperty({ description: 'Failed or expired messages matching, not resent yet' })
  matched!: number;
  @ApiProperty({ description: 'New messages created (0 with dry_run)' }) resent!: number;
  @ApiProperty({ description: 'Matching messages left for another call (at most 1000 per call)' })
  remaining!: number;
  @ApiProperty() dry_run!: boolean;
}
