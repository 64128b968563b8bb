import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsOptional, Matches, Max, Min, ValidateIf } from 'class-validator';

/** A team's name as API keys carry it (auth/api-keys.dto.ts). */
export const TEAM_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** The highest value each setting takes: far above any sensible one, well inside its column. */
export const MAX_WEIGHT = 100;
export const MAX_HIGH_PER_MINUTE = 1_000_000;
export const MAX_BACKLOG_CAP = 100_000_000;
export const MAX_MONTHLY_BUDGET = 2_000_000_000;

/** Given: validated, even null (which fields that take null read as "back to the default"). */
const given = (_: object, value: unknown) => value !== undefined;

/** The caller's own team, whatever it is called: what a key that does not know its team asks. */
export const OWN_TEAM = '@me';

export class TeamParams {
  @ApiProperty({
    example: 'checkout',
    description: `The team, as API keys name it (${TEAM_PATTERN.source}), or ${OWN_TEAM}: the key's own team`,
  })
  @Matches(new RegExp(`${TEAM_PATTERN.source}|^${OWN_TEAM}$`), {
    message: `team must match ${TEAM_PATTERN.source} or be ${OWN_TEAM}`,
  })
  team!: string;
}

export class UpdateTeamDto {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_WEIGHT,
    example: 3,
    description:
      'Send slots in proportion to it while several teams have messages due at one priority',
  })
  @ValidateIf(given)
  @IsInt()
  @Min(1)
  @Max(MAX_WEIGHT)
  weight?: number;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 0,
    maximum: MAX_HIGH_PER_MINUTE,
    example: 600,
    description:
      'High-priority messages per minute beyond which the team’s high waits as normal; null: ' +
      'the default (a tenth of the plan’s rate per minute)',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_HIGH_PER_MINUTE)
  high_per_minute?: number | null;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 0,
    maximum: MAX_BACKLOG_CAP,
    example: 100_000,
    description:
      'Unsent messages the team may have; past it intake answers 429 team_backlog_full. ' +
      'null: the default (100,000)',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_BACKLOG_CAP)
  max_backlog?: number | null;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 0,
    maximum: MAX_MONTHLY_BUDGET,
    example: 50_000,
    description: 'Provider credits per calendar month (UTC); null: no budget',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_MONTHLY_BUDGET)
  monthly_credit_budget?: number | null;

  @ApiPropertyOptional({
    example: false,
    description: 'Over budget: refuse new messages (402 budget_exceeded) and hold waiting ones',
  })
  @ValidateIf(given)
  @IsBoolean()
  budget_hard_stop?: boolean;
}

export class TeamUsageDay {
  @ApiProperty({ example: '2026-12-05', description: 'A UTC day of the month' })
  day!: string;

  @ApiProperty({ example: 1_730, description: 'Credits the provider charged that day' })
  used_credits!: number;
}

export class TeamUsageView {
  @ApiProperty({ example: '2026-12', description: 'The calendar month (UTC) counted' })
  month!: string;

  @ApiProperty({ example: 1_250, description: 'Credits reserved at intake this month' })
  reserved_credits!: number;

  @ApiProperty({ example: 41_200, description: 'Credits the provider charged this month' })
  used_credits!: number;

  @ApiProperty({
    type: Number,
    nullable: true,
    example: 0.824,
    description:
      'used_credits / monthly_credit_budget (1 for a budget of 0); null without a budget',
  })
  budget_used_ratio!: number | null;

  @ApiProperty({
    type: TeamUsageDay,
    isArray: true,
    description: 'used_credits per UTC day of the month, days with sends only, oldest first',
  })
  days!: TeamUsageDay[];
}

export class TeamBacklogView {
  @ApiProperty({ example: 0, description: 'Unsent (scheduled or pending) high-priority messages' })
  high!: number;

  @ApiProperty({ example: 1_840 })
  normal!: number;

  @ApiProperty({ example: 0 })
  low!: number;
}

export class TeamView {
  @ApiProperty({ example: 'checkout' })
  team!: string;

  @ApiProperty({ example: 3, minimum: 1, maximum: MAX_WEIGHT })
  weight!: number;

  @ApiProperty({ example: 600, description: 'In force: the team’s own, or the default' })
  high_per_minute!: number;

  @ApiProperty({ example: true, description: 'high_per_minute is the default (none set)' })
  high_per_minute_is_default!: boolean;

  @ApiProperty({ example: 100_000, description: 'In force: the team’s own, or the default' })
  max_backlog!: number;

  @ApiProperty({ example: true, description: 'max_backlog is the default (none set)' })
  max_backlog_is_default!: boolean;

  @ApiProperty({ type: Number, nullable: true, example: 50_000, description: 'null: no budget' })
  monthly_credit_budget!: number | null;

  @ApiProperty({ example: false })
  budget_hard_stop!: boolean;

  @ApiProperty({ type: TeamUsageView })
  usage!: TeamUsageView;

  @ApiProperty({ type: TeamBacklogView })
  backlog!: TeamBacklogView;

  @ApiProperty({
    type: Number,
    nullable: true,
    example: 0.25,
    description:
      'The team’s fraction of the messages handed to the provider in the last 60 seconds; ' +
      'null when none were',
  })
  current_share!: number | null;

  @ApiProperty({ example: 150, description: 'The team’s messages handed over in the last 60 s' })
  handed_over_last_60s!: number;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '2026-12-01T09:30:00.000Z',
    description: 'When an admin last changed the settings; null: never (all defaults)',
  })
  updated_at!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Id of the API key that last changed them (null: never, or ADMIN_API_KEY)',
  })
  updated_by_key!: string | null;
}
