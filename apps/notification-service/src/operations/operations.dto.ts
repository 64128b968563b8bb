import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';

/** An account whose recent calls fail at least this often is failing, circuit open or not. */
export const FAILING_ERROR_RATE = 0.2;
/** Fewer calls than this say too little to call an account failing by its error rate. */
export const FAILING_MIN_CALLS = 5;

export class PauseDto {
  @ApiPropertyOptional({
    example: 'Provider incident INC-42',
    description: 'Why sending is paused; shown with the queue state until it resumes',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  reason?: string;
}

export class ProviderAccountQuery {
  @ApiPropertyOptional({
    example: 'backup',
    description:
      'Which provider account (a name in SMS_PROVIDER_ACCOUNTS); default: the one named default, else the first',
  })
  @IsOptional()
  @Matches(/^[a-z0-9][a-z0-9_-]{0,31}$/, { message: 'account must be a provider account name' })
  account?: string;
}

export class PauseStateView {
  @ApiProperty() paused!: boolean;
  @ApiProperty({
    type: String,
    nullable: true,
    enum: ['manual', 'insufficient_credits'],
    description: 'Who or what paused: an operator, or the provider account running out of credits',
  })
  reason!: 'manual' | 'insufficient_credits' | null;
  @ApiProperty({ type: String, nullable: true, description: 'When the pause began' })
  since!: string | null;
  @ApiProperty({ type: String, nullable: true, description: "The operator's reason text" })
  note!: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'API key id of who paused (`admin` for the bootstrap key, `system` for credits)',
  })
  paused_by!: string | null;
}

export class BacklogView {
  @ApiProperty({ description: 'Scheduled for later' }) scheduled!: number;
  @ApiProperty({ description: 'Scheduled and due within the lookahead (SCHEDULE_LOOKAHEAD_MS)' })
  scheduled_due_soon!: number;
  @ApiProperty({ description: 'Waiting for a worker (due now or after a retry backoff)' })
  pending!: number;
  @ApiProperty({ description: 'Pending and due now' }) pending_due!: number;
  @ApiProperty({ description: 'In a worker’s hands: the provider call is under way' })
  claimed!: number;
  @ApiProperty({ description: 'Handed to the provider, no final status yet (queued, sent)' })
  at_provider!: number;
  @ApiProperty({
    type: Number,
    nullable: true,
    description:
      'Seconds the oldest unsent message has waited since it became due (its scheduled_at, else its acceptance), whatever its back-offs or claims; null if none waits',
  })
  oldest_pending_seconds!: number | null;
  @ApiProperty({
    description:
      'Pending messages given back after a provider error (5xx, timeout, refused connection, no account able to take it, 429, or an error about the message) and waiting to be tried again',
  })
  in_retry!: number;
}

export class SendRateView {
  @ApiProperty({ description: 'Hand-overs per second over the last 10 s' }) per_second!: number;
  @ApiProperty({ description: 'Hand-overs per second over the last 60 s' })
  per_second_last_minute!: number;
  @ApiProperty({ description: 'The accounts’ plans added up, requests per second' })
  plan_limit_per_second!: number;
}

export class CreditsView {
  @ApiProperty({ type: Number, nullable: true, description: 'As the provider last reported them' })
  remaining!: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'When (the latest hand-over)' })
  as_of!: string | null;
}

export class AccountCircuitView {
  @ApiProperty({
    enum: ['closed', 'open', 'half_open'],
    description:
      'closed: sending; open: the account takes no calls (its messages wait, nothing fails); half_open: the next call is a probe',
  })
  state!: 'closed' | 'open' | 'half_open';
  @ApiProperty({
    type: String,
    nullable: true,
    enum: ['provider_failing', 'insufficient_credits', 'authentication_failed'],
    description:
      'Why it is open: 5xx/timeouts/refused connections in a row, no credits, key refused',
  })
  reason!: 'provider_failing' | 'insufficient_credits' | 'authentication_failed' | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'When it stopped (or resumed) taking calls; null: never stopped since start',
  })
  since!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The last failure or refusal code' })
  last_error!: string | null;
  @ApiProperty({ type: String, nullable: true }) last_error_at!: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'While open: when the next probe may go',
  })
  probe_at!: string | null;
}

export class AccountCallsView {
  @ApiProperty({ example: 300, description: 'The window counted, in seconds' })
  window_seconds!: number;
  @ApiProperty({ description: 'Calls to the provider through this account (every process)' })
  calls!: number;
  @ApiProperty({ description: 'Of those, 5xx answers, timeouts and refused connections' })
  failures!: number;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'failures / calls, 0 to 1; null without calls',
  })
  error_rate!: number | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'The latest call through it that did not end well (server_error, timeout, network_error, rate_limit_exceeded, invalid_phone_number…), within the window or before',
  })
  last_error!: string | null;
  @ApiProperty({ type: String, nullable: true }) last_error_at!: string | null;
}

export class AccountStateView {
  @ApiProperty({ example: 'primary' }) name!: string;
  @ApiProperty({ enum: ['standard', 'enterprise'] }) plan!: string;
  @ApiProperty({
    type: [String],
    nullable: true,
    description: 'Only messages of these categories; null: any',
  })
  categories!: string[] | null;
  @ApiProperty({
    type: [String],
    nullable: true,
    description: 'Only messages of these teams; null: any',
  })
  teams!: string[] | null;
  @ApiProperty({
    enum: ['ok', 'failing', 'refused'],
    description: `failing: its circuit is open or probing because the provider fails it, or over ${FAILING_ERROR_RATE * 100}% of at least ${FAILING_MIN_CALLS} recent calls failed and so did the latest; refused: the provider refuses the account (out of credits, key refused); ok otherwise`,
  })
  health!: 'ok' | 'failing' | 'refused';
  @ApiProperty({ type: AccountCircuitView }) circuit!: AccountCircuitView;
  @ApiProperty({
    type: AccountCallsView,
    description: 'Its provider calls over the last 5 minutes',
  })
  recent_calls!: AccountCallsView;
  @ApiProperty({ description: 'Hand-overs per second through it over the last 10 s' })
  per_second!: number;
  @ApiProperty({ description: 'Hand-overs per second through it over the last 60 s' })
  per_second_last_minute!: number;
  @ApiProperty({ description: 'Its plan’s limit, requests per second' })
  limit_per_second!: number;
  @ApiProperty({ type: CreditsView }) credits!: CreditsView;
}

export class QueueStateView extends PauseStateView {
  @ApiProperty({ type: BacklogView }) backlog!: BacklogView;
  @ApiProperty({ type: SendRateView }) send_rate!: SendRateView;
  @ApiProperty({ type: CreditsView }) credits!: CreditsView;
  @ApiProperty({
    type: [AccountStateView],
    description: 'Each provider account in routing order (SMS_PROVIDER_ACCOUNTS)',
  })
  accounts!: AccountStateView[];
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'number' },
    description: 'Bull job counts in Redis (a job exists only for work due soon)',
  })
  jobs!: Record<string, number>;
}
