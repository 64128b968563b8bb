import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches } from 'class-validator';
import { TEMPLATE_KEY_PATTERN } from '../templates/templates.dto';
import { IsIsoInstant } from '../common/iso-instant';
import { MESSAGE_CATEGORIES, type MessageCategory } from '../common/message-category';
import { RECIPIENT_SUPPRESSED } from '../common/recipient-error-codes';
import { DEFAULT_WINDOW_DAYS, MAX_WINDOW_DAYS } from './report-window';

import { GROUP_BY_PATTERN, MAX_BUCKETS, REPORT_GROUPS } from './report-groups';
import { MAX_REPORT_ROWS } from './report-size';

export const REPORT_FORMATS = ['json', 'csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** Same shape as the team of an API key (auth/api-keys.dto.ts). */
const TEAM_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export class DeliveryReportQuery {
  @ApiPropertyOptional({
    example: '2026-01-01T00:00:00Z',
    description:
      `Start of the window (inclusive) on messages.submitted_at; ISO 8601 with offset. ` +
      `Default: ${DEFAULT_WINDOW_DAYS} days before \`until\`.`,
  })
  @IsOptional()
  @IsIsoInstant()
  since?: string;

  @ApiPropertyOptional({
    example: '2026-01-08T00:00:00Z',
    description:
      `End of the window (exclusive); ISO 8601 with offset. Default: now. Must be later than ` +
      `\`since\` (else 422 invalid_window) and at most ${MAX_WINDOW_DAYS} days after it ` +
      `(else 422 window_too_large).`,
  })
  @IsOptional()
  @IsIsoInstant()
  until?: string;

  @ApiPropertyOptional({ example: 'order_shipped', description: 'Only this template key.' })
  @IsOptional()
  @Matches(TEMPLATE_KEY_PATTERN, { message: 'template must be a template key' })
  template?: string;

  @ApiPropertyOptional({
    enum: MESSAGE_CATEGORIES,
    example: 'marketing',
    description: 'Only messages of this category (frozen from the template version they used).',
  })
  @IsOptional()
  @IsIn(MESSAGE_CATEGORIES)
  category?: MessageCategory;

  @ApiPropertyOptional({
    example: 'payments',
    description:
      'Only this team. Admin keys: any team, default all teams. Other keys always report on ' +
      'their own team; naming another team is 403 forbidden.',
  })
  @IsOptional()
  @Matches(TEAM_PATTERN, { message: 'team must match ^[a-z0-9][a-z0-9_-]{0,63}$' })
  team?: string;

  @ApiPropertyOptional({
    type: String,
    pattern: GROUP_BY_PATTERN.source,
    default: 'template',
    example: 'template,day',
    description:
      `One row per template key, team, message category (${MESSAGE_CATEGORIES.join(', ')}), ` +
      `provider account that took the messages (empty: none did), UTC ` +
      `calendar day (YYYY-MM-DD) or UTC hour (YYYY-MM-DDTHH:00:00Z), or per combination of ` +
      `several: comma-separated, from ` +
      `${REPORT_GROUPS.join(', ')}; day and hour not together. Day and hour rows cover every ` +
      `bucket the window touches, with zero figures where nothing was submitted (at most ` +
      `${MAX_BUCKETS} buckets, else 422 too_many_buckets). A report has at most ` +
      `${MAX_REPORT_ROWS.toLocaleString('en-US')} rows, zero-filled ones included: the distinct ` +
      `template/team/category combinations with messages in the window × the time buckets (e.g. ` +
      `13 templates × 720 hours of 30 days; category has at most ${MESSAGE_CATEGORIES.length} ` +
      `keys). Larger is 422 report_too_large, decided by a bounded count before any figure is ` +
      `computed, in JSON and CSV alike; its details give the rows, the limit and how to narrow ` +
      `(a shorter window, day instead of hour, one template, team or category).`,
  })
  @IsOptional()
  @IsString()
  @Matches(GROUP_BY_PATTERN, {
    message: `group_by must be one or more of ${REPORT_GROUPS.join(', ')}, comma-separated`,
  })
  group_by?: string;

  @ApiPropertyOptional({
    enum: REPORT_FORMATS,
    default: 'json',
    description:
      'csv: text/csv attachment with a header row and one line per row, same columns as the ' +
      'JSON rows; no totals line, so the file stays a plain table.',
  })
  @IsOptional()
  @IsIn(REPORT_FORMATS)
  format?: ReportFormat;
}

/** Figures for a set of messages (one group, or all of them for `totals`). */
export class DeliveryFigures {
  @ApiProperty({ description: 'Messages submitted in the window' }) total!: number;
  @ApiProperty() scheduled!: number;
  @ApiProperty() pending!: number;
  @ApiProperty() queued!: number;
  @ApiProperty() sent!: number;
  @ApiProperty() delivered!: number;
  @ApiProperty({
    description: `Failed messages, not counting those stopped by the suppression list (suppressed)`,
  })
  failed!: number;
  @ApiProperty() expired!: number;
  @ApiProperty() canceled!: number;

  @ApiProperty({
    example: 4,
    description:
      `Messages stopped by the suppression list (failed with error code ${RECIPIENT_SUPPRESSED}): ` +
      'never sent, no attempt and no cost. Counted in total but not in failed, and left out of ' +
      'delivery_rate.',
  })
  suppressed!: number;

  @ApiProperty({
    type: Number,
    nullable: true,
    example: 0.9821,
    description:
      'delivered / (delivered + failed + expired), 4 decimals: the share of messages with a ' +
      'final provider outcome that arrived. Canceled, suppressed and in-flight messages are ' +
      'left out. ' +
      'null when no message has reached one of those three states.',
  })
  delivery_rate!: number | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    example: 4.215,
    description:
      'Median of delivered_at - submitted_at over delivered messages, in seconds (3 decimals, ' +
      'continuous percentile; a negative gap from provider clock skew counts as 0). null if none.',
  })
  p50_delivery_seconds!: number | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    example: 12.5,
    description: '95th percentile of the same, in seconds. null if no message was delivered.',
  })
  p95_delivery_seconds!: number | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    example: 1.204,
    description:
      'Median of delivered_at - queued_at over delivered messages, in seconds: from hand-over ' +
      'to the provider to delivery, so time spent scheduled, waiting for the rate budget or ' +
      'held by a pause does not count (p50_delivery_seconds, from submission, includes it).',
  })
  p50_handover_seconds!: number | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    example: 3.5,
    description: '95th percentile of delivered_at - queued_at, in seconds. null if none.',
  })
  p95_handover_seconds!: number | null;

  @ApiProperty({
    description:
      'Sum of the segments of messages handed to the provider (those with a provider message ' +
      'id): what the provider bills for, whatever their later outcome.',
  })
  segments!: number;
}

export class DeliveryReportRow extends DeliveryFigures {
  @ApiPropertyOptional({ description: 'Group key with group_by=template' }) template?: string;
  @ApiPropertyOptional({ description: 'Group key with group_by=team' }) team?: string;
  @ApiPropertyOptional({
    enum: MESSAGE_CATEGORIES,
    description: 'Group key with group_by=category',
  })
  category?: MessageCategory;
  @ApiPropertyOptional({
    description:
      'Group key with group_by=account: the provider account that took the messages (SMS_PROVIDER_ACCOUNTS); empty for messages no account took (never handed over)',
  })
  account?: string;
  @ApiPropertyOptional({ description: 'Group key with group_by=day (UTC, YYYY-MM-DD)' })
  day?: string;
  @ApiPropertyOptional({ description: 'Group key with group_by=hour (UTC, YYYY-MM-DDTHH:00:00Z)' })
  hour?: string;
}

export class FailureCount {
  @ApiProperty({
    example: 'undeliverable',
    description: "The message's error code; unknown if none was recorded",
  })
  error_code!: string;
  @ApiProperty({ description: 'Failed messages with this code' }) failed!: number;
  @ApiProperty({ description: 'Expired messages with this code' }) expired!: number;
}

export class DeliveryReport {
  @ApiProperty({ description: 'Window start as applied (inclusive)' }) since!: string;
  @ApiProperty({ description: 'Window end as applied (exclusive)' }) until!: string;
  @ApiProperty({ example: 'template,day', description: 'The groupings as applied, in order' })
  group_by!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Team filter as applied: always the key’s own team for non-admin keys; null = all',
  })
  team!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Template filter; null = all' })
  template!: string | null;
  @ApiProperty({
    enum: MESSAGE_CATEGORIES,
    nullable: true,
    description: 'Category filter; null = all',
  })
  category!: MessageCategory | null;
  @ApiProperty({
    type: DeliveryReportRow,
    isArray: true,
    description:
      'One row per group, sorted by its keys in group_by order (byte order). Template and team ' +
      'groups appear when they have a message in the window; day and hour buckets appear for ' +
      'the whole window, zero-filled for every combination of the other keys. At most ' +
      `${MAX_REPORT_ROWS.toLocaleString('en-US')} (else 422 report_too_large).`,
  })
  rows!: DeliveryReportRow[];
  @ApiProperty({
    type: DeliveryFigures,
    description: 'The same figures over every row together (percentiles over all messages)',
  })
  totals!: DeliveryFigures;
  @ApiProperty({
    type: FailureCount,
    isArray: true,
    description:
      'Failed and expired messages by error code over the whole report, most first (top 20); ' +
      `suppressed messages (${RECIPIENT_SUPPRESSED}) are in their own column instead`,
  })
  failures!: FailureCount[];
}
