import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { plainToInstance } from 'class-transformer';
import { IsInt, IsOptional, IsString, IsUUID, Matches, Min, validateSync } from 'class-validator';
import type { CallbackJobData } from './callbacks.constants';
import { MAX_CALLBACKS_LISTED } from './callbacks.repository';

export class CallbackSecretQuery {
  @ApiPropertyOptional({
    example: 'payments',
    description: "Admin keys only: the team whose secret to manage (default: the key's own team)",
  })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9_-]{0,63}$/, { message: 'team must match ^[a-z0-9][a-z0-9_-]{0,63}$' })
  team?: string;
}

export class CallbackSecretInfo {
  @ApiProperty({ example: 'payments' }) team!: string;
  @ApiProperty({ example: '2026-03-01T12:00:00.000Z' }) created_at!: string;
}

export class CallbackSecretResponse extends CallbackSecretInfo {
  @ApiProperty({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description:
      'Shown once: store it now; the API never returns it again. The previous one stops working at once.',
  })
  secret!: string;
}

export class CallbackDeliveryView {
  @ApiProperty({ description: 'Also the webhook-id header of every attempt' }) id!: string;
  @ApiProperty() message_id!: string;
  @ApiProperty({ example: 'message.delivered' }) event!: string;
  @ApiProperty({ enum: ['pending', 'delivered', 'failed'] }) status!: string;
  @ApiProperty({ description: 'Requests made so far, over every round' }) attempts!: number;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'HTTP status of the last attempt; null if none came back',
  })
  last_status_code!: number | null;
  @ApiProperty({ nullable: true, type: String }) last_error!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'When the next attempt is due; null once final',
  })
  next_attempt_at!: string | null;
  @ApiProperty() created_at!: string;
  @ApiProperty() updated_at!: string;
  @ApiProperty({ nullable: true, type: String }) delivered_at!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'When a redelivery was last asked for; null if never',
  })
  redelivered_at!: string | null;
}

export class FailedCallbackView extends CallbackDeliveryView {
  @ApiProperty({ description: 'Redeliver with POST /v1/notifications/{id}/callbacks/redeliver' })
  notification_id!: string;
}

export class FailedCallbackList {
  @ApiProperty({
    type: FailedCallbackView,
    isArray: true,
    description: 'Most recently failed first, at most 100',
  })
  data!: FailedCallbackView[];
}

export class CallbackDeliveryList {
  @ApiProperty({
    type: CallbackDeliveryView,
    isArray: true,
    description: `Oldest status change first, at most ${MAX_CALLBACKS_LISTED.toLocaleString('en-US')}`,
  })
  data!: CallbackDeliveryView[];
}

/** What a callback job must carry: checked on arrival, since Redis is outside our type system. */
export class CallbackJobDto implements CallbackJobData {
  @IsUUID()
  deliveryId!: string;

  @IsInt()
  @Min(0)
  attempt!: number;
}

export function parseCallbackJob(data: unknown): CallbackJobData | null {
  if (typeof data !== 'object' || data === null) return null;
  const job = plainToInstance(CallbackJobDto, data);
  return validateSync(job).length === 0
    ? { deliveryId: job.deliveryId, attempt: job.attempt }
    : null;
}
