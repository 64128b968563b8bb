import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { SUPPRESSION_SCOPES, type SuppressionScope } from '../common/message-category';
import { MAX_REASON_LENGTH, MAX_SOURCE_LENGTH } from './suppression-limits';

export class CreateSuppressionDto {
  @ApiProperty({ example: '+4915123456789', description: 'The number, in E.164' })
  @IsString()
  @MaxLength(32)
  to!: string;

  @ApiProperty({
    enum: SUPPRESSION_SCOPES,
    example: 'marketing',
    description: 'marketing: stops marketing messages; all: stops marketing and transactional',
  })
  @IsIn(SUPPRESSION_SCOPES)
  scope!: SuppressionScope;

  @ApiPropertyOptional({ example: 'Asked by phone to receive no offers', maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_REASON_LENGTH)
  reason?: string;

  @ApiPropertyOptional({
    example: 'crm',
    maxLength: 100,
    description: 'Where the opt-out came from (the system or channel)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_SOURCE_LENGTH)
  source?: string;
}

export class ListSuppressionsQuery {
  @ApiPropertyOptional({
    example: '+4915123456789',
    description: 'Exact number in E.164: the answer shows it unmasked (the caller knows it)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(32)
  to?: string;

  @ApiPropertyOptional({ enum: SUPPRESSION_SCOPES })
  @IsOptional()
  @IsIn(SUPPRESSION_SCOPES)
  scope?: SuppressionScope;

  @ApiPropertyOptional({
    enum: ['true', 'false'],
    default: 'false',
    description: 'true: removed entries too, with who removed them, when and why',
  })
  @IsOptional()
  @IsIn(['true', 'false'])
  include_removed?: 'true' | 'false';

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

export class RemoveSuppressionQuery {
  @ApiPropertyOptional({
    enum: SUPPRESSION_SCOPES,
    description: 'The scope to remove; without it, both scopes’ entries of the number',
  })
  @IsOptional()
  @IsIn(SUPPRESSION_SCOPES)
  scope?: SuppressionScope;

  @ApiPropertyOptional({ example: 'Opted in again at checkout', maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_REASON_LENGTH)
  reason?: string;
}

export class ImportSuppressionsQuery {
  @ApiPropertyOptional({
    example: 'crm',
    default: 'csv_import',
    maxLength: 100,
    description: 'Stored as every imported entry’s source',
  })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_SOURCE_LENGTH)
  source?: string;
}

export class Suppression {
  @ApiProperty({ example: '0b7c3f6e-2a51-4f7e-9d0c-5a1e8b2c4d10' })
  id!: string;

  @ApiProperty({
    example: '+49*******0089',
    description: 'E.164; masked in lists, shown whole for an exact lookup (to=) and to its writer',
  })
  to!: string;

  @ApiProperty({ enum: SUPPRESSION_SCOPES, example: 'marketing' })
  scope!: SuppressionScope;

  @ApiProperty({ type: String, nullable: true, example: 'Asked by phone to receive no offers' })
  reason!: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'crm' })
  source!: string | null;

  @ApiProperty({ example: '2026-12-01T09:30:00.000Z' })
  created_at!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Id of the API key that added it (null: the ADMIN_API_KEY of the environment)',
  })
  created_by_key!: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'crm' })
  created_by_team!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'When it was removed; null: live' })
  removed_at!: string | null;

  @ApiProperty({ type: String, nullable: true })
  removed_by_key!: string | null;

  @ApiProperty({ type: String, nullable: true })
  removed_by_team!: string | null;

  @ApiProperty({ type: String, nullable: true })
  removal_reason!: string | null;
}

export class SuppressionPage {
  @ApiProperty({ type: Suppression, isArray: true })
  data!: Suppression[];

  @ApiProperty({ type: String, nullable: true })
  next_cursor!: string | null;
}

export class ImportResult {
  @ApiProperty({ example: 980, description: 'Entries added' })
  imported!: number;

  @ApiProperty({
    example: 20,
    description: 'Rows already on the list as live entries, or repeated in the file',
  })
  skipped!: number;
}
