import { MESSAGE_FIELD_DOCS } from '../delivery-status/message-view';
import { MESSAGE_CATEGORIES } from '../common/message-category';
import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import {
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  MaxLength,
  registerDecorator,
  type ValidationOptions,
} from 'class-validator';
import { IsIsoInstant } from '../common/iso-instant';
import { MESSAGE_STATUSES } from '../delivery-status/message-status';

/**
 * Messages one notification lists (its view, its cancel answer): as many as a request may have
 * recipients. Resends join their notification, so without this one notification resent over
 * and over would load every message and timeline it ever had in one answer; a 1,000-message view
 * with full timelines is already ~1 MB and tens of milliseconds of event loop.
 */
export const MAX_MESSAGES_LISTED = 1_000;

/**
 * Timeline rows read per message listed. A message has at most 6 today (its first row, four
 * forward status changes, `resent`); the bound keeps the query bounded whatever is added later.
 */
export const MAX_EVENTS_PER_MESSAGE = 20;

export const SENDER_ID = /^(?:[A-Za-z0-9 ]{1,11}|\+[1-9]\d{6,14})$/;
export const SENDER_ID_MESSAGE =
  'must be up to 11 letters, digits or spaces, or an E.164 number (provider sender id)';

/** `to` is one number or a list of them; numbers themselves are checked by the service (422). */
function IsRecipientList(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isRecipientList',
      target: target.constructor,
      propertyName,
      options: {
        message: 'to must be a phone number or a non-empty array of phone numbers (strings)',
        ...options,
      },
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' ||
          (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string')),
      },
    });
}

export class SendNotificationDto {
  @ApiProperty({ example: 'order_shipped' })
  @IsString()
  @MaxLength(64)
  template!: string;

  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: '+14155550100',
    description: 'E.164 number or up to 1000 of them; duplicates are removed',
  })
  @IsRecipientList()
  to!: string | string[];

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: { name: 'Ada' } })
  @IsOptional()
  @IsObject()
  variables?: Record<string, unknown>;

  @ApiPropertyOptional({ example: 'Acme', description: 'Sender id; defaults to the template’s' })
  @IsOptional()
  @IsString()
  @Matches(SENDER_ID, { message: `from ${SENDER_ID_MESSAGE}` })
  from?: string;

  @ApiPropertyOptional({ example: '2026-12-01T09:00:00Z' })
  @IsOptional()
  @IsIsoInstant()
  scheduled_at?: string;

  @ApiPropertyOptional({ example: '2026-12-01T10:00:00Z' })
  @IsOptional()
  @IsIsoInstant()
  expires_at?: string;

  @ApiPropertyOptional({ enum: ['high', 'normal', 'low'], default: 'normal' })
  @IsOptional()
  @IsIn(['high', 'normal', 'low'])
  priority?: 'high' | 'normal' | 'low';

  @ApiPropertyOptional({
    example: 'Europe/Berlin',
    maxLength: 64,
    description:
      "The recipients' IANA time zone, for quiet hours (marketing: 21:00-08:00 local by default). Left out: the number's country when it has one zone, else QUIET_HOURS_DEFAULT_TIMEZONE. An unknown name is 400 invalid_timezone.",
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  timezone?: string;

  @ApiPropertyOptional({
    example: 'https://orders.internal/sms-status',
    description:
      'Where status callbacks go (signed, see docs/callbacks.md). No user name or password in it: 422 callback_url_credentials',
  })
  @IsOptional()
  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
    { message: 'callback_url must be an http(s) URL' },
  )
  @MaxLength(2048)
  callback_url?: string;

  @ApiPropertyOptional({ example: 'order-42' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  reference?: string;
}

export class ListNotificationsQuery {
  @ApiPropertyOptional({
    enum: MESSAGE_STATUSES,
    description: 'Notifications with a message in this status',
  })
  @IsOptional()
  @IsIn(MESSAGE_STATUSES)
  status?: string;

  @ApiPropertyOptional({ maxLength: 64, description: 'Template key', example: 'order_shipped' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  template?: string;

  @ApiPropertyOptional({
    maxLength: 128,
    description: "The caller's reference",
    example: 'order-1042',
  })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  reference?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Created at or after (ISO 8601)' })
  @IsOptional()
  @IsIsoInstant()
  since?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Created before (ISO 8601)' })
  @IsOptional()
  @IsIsoInstant()
  until?: string;

  @ApiPropertyOptional({
    pattern: '^\\d{1,3}$',
    description: 'Page size, 1-200 (default 50)',
    example: '50',
  })
  @IsOptional()
  @Matches(/^\d{1,3}$/, { message: 'limit must be an integer between 1 and 200' })
  limit?: string;

  @ApiPropertyOptional({ maxLength: 200, description: 'next_cursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}

/** One message and where it stands. */
export class MessageStateView {
  @ApiProperty() id!: string;
  @ApiProperty() to!: string;
  @ApiProperty({ enum: MESSAGE_STATUSES }) status!: string;
}

export class AcceptedMessage {
  @ApiProperty() id!: string;
  @ApiProperty() to!: string;
  @ApiProperty({
    enum: MESSAGE_STATUSES,
    description:
      "pending (due now), scheduled (a later scheduled_at, or held out of the recipient's quiet hours), or failed when recipient protection stopped it (error says why)",
  })
  status!: string;
  @ApiProperty({ enum: MESSAGE_CATEGORIES }) category!: string;
  @ApiProperty({
    nullable: true,
    type: String,
    description:
      "When it is due if not now: the request's scheduled_at, or the end of the recipient's quiet hours",
  })
  scheduled_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) expires_at!: string | null;
  @ApiProperty({
    nullable: true,
    type: () => MessageErrorView,
    description: 'recipient_suppressed or recipient_rate_limited: the message will never be sent',
  })
  error!: MessageErrorView | null;
}

export class AcceptedNotification {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['accepted', 'scheduled'] }) status!: 'accepted' | 'scheduled';
  @ApiProperty() template!: string;
  @ApiProperty() template_version!: number;
  @ApiProperty({ nullable: true, type: String }) scheduled_at!: string | null;
  @ApiProperty({ type: AcceptedMessage, isArray: true }) messages!: AcceptedMessage[];
}

export class MessageErrorView {
  @ApiProperty() code!: string;
  @ApiProperty() message!: string;
}

export class MessageEventView {
  @ApiProperty() type!: string;
  @ApiProperty({ nullable: true, type: String }) status!: string | null;
  @ApiProperty() source!: string;
  @ApiProperty() occurred_at!: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true })
  details?: Record<string, unknown> | null;
}

export class MessageView {
  @ApiProperty() id!: string;
  @ApiProperty() to!: string;
  @ApiProperty({ enum: MESSAGE_STATUSES }) status!: string;
  @ApiProperty({ nullable: true, type: String }) provider_message_id!: string | null;
  @ApiProperty(MESSAGE_FIELD_DOCS.provider_account) provider_account!: string | null;
  @ApiProperty({ nullable: true, type: MessageErrorView }) error!: MessageErrorView | null;
  @ApiProperty() attempts!: number;
  @ApiProperty() segments!: number;
  @ApiProperty(MESSAGE_FIELD_DOCS.category) category!: string;
  @ApiProperty(MESSAGE_FIELD_DOCS.scheduled_at) scheduled_at!: string | null;
  @ApiProperty(MESSAGE_FIELD_DOCS.expires_at) expires_at!: string | null;
  @ApiProperty() encoding!: string;
  @ApiProperty() characters!: number;
  @ApiProperty({ nullable: true, type: Number }) credits_used!: number | null;
  @ApiProperty() submitted_at!: string;
  @ApiProperty({ nullable: true, type: String }) queued_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) sent_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) delivered_at!: string | null;
  @ApiProperty() updated_at!: string;
  @ApiProperty({ type: MessageEventView, isArray: true }) events!: MessageEventView[];
}

export class NotificationView {
  @ApiProperty() id!: string;
  @ApiProperty() team!: string;
  @ApiProperty() template!: string;
  @ApiProperty() template_version!: number;
  @ApiProperty({ nullable: true, type: String }) from!: string | null;
  @ApiProperty({ enum: ['high', 'normal', 'low'] }) priority!: string;
  @ApiProperty({ nullable: true, type: String }) reference!: string | null;
  @ApiProperty({ nullable: true, type: String }) callback_url!: string | null;
  @ApiProperty({ nullable: true, type: String }) scheduled_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) expires_at!: string | null;
  @ApiProperty() created_at!: string;
  @ApiProperty({
    description:
      "Sent from the templates API (POST /v1/templates/{key}/test or a draft's /test) to try " +
      "a template: a real send, through every check any other goes through. A draft's has " +
      'template_version 0.',
  })
  test!: boolean;
  @ApiProperty({ description: 'Count of messages by status, every message of the notification' })
  status_counts!: Record<string, number>;
  @ApiProperty({
    type: MessageView,
    isArray: true,
    description:
      `Oldest first, at most ${MAX_MESSAGES_LISTED.toLocaleString('en-US')} (a request's ` +
      'recipients). Resends join their notification: when status_counts add up to more, page ' +
      'through all of them with GET /v1/messages?notification_id=.',
  })
  messages!: MessageView[];
}

export class NotificationSummary extends OmitType(NotificationView, ['messages'] as const) {}

export class NotificationPage {
  @ApiProperty({ type: NotificationSummary, isArray: true }) data!: NotificationSummary[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as cursor for the next page' })
  next_cursor!: string | null;
}

export class CancelResult {
  @ApiProperty() id!: string;
  @ApiProperty({ description: 'Messages canceled by this call' }) canceled!: number;
  @ApiProperty({
    type: MessageStateView,
    isArray: true,
    description: `The notification's messages after the call, oldest first, at most ${MAX_MESSAGES_LISTED.toLocaleString('en-US')}`,
  })
  messages!: MessageStateView[];
}
