import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal, RequireScope } from '../auth/auth.decorators';
import type { Principal } from '../auth/scopes';
import { NotFoundError, ServiceUnavailableError } from '../common/errors/api-error';
import { PauseService, type PauseState } from '../sending/pause.service';
import { ProviderGateway, SmsProviderError } from '../provider';
import { PauseDto, PauseStateView, ProviderAccountQuery, QueueStateView } from './operations.dto';
import { QueueStateService } from './queue-state.service';
import { AT, PAUSE } from '../common/openapi/examples';
import { Operation } from '../common/openapi/operation.decorator';

/** The provider's account answer as it is (extension fields kept), with its rate-limit headers. */
const ACCOUNT_SCHEMA = {
  type: 'object',
  additionalProperties: true,
  properties: {
    plan: { type: 'string', example: 'standard' },
    credits_remaining: { type: 'integer', example: 1234 },
    rate_limit: {
      type: 'object',
      nullable: true,
      properties: {
        limit: { type: 'integer', example: 10 },
        remaining: { type: 'integer', example: 9 },
        reset_seconds: { type: 'number', example: 1 },
      },
    },
  },
};

@ApiTags('operations')
@ApiBearerAuth()
@RequireScope('admin')
@Controller('v1')
export class OperationsController {
  constructor(
    private readonly pause: PauseService,
    private readonly queueState: QueueStateService,
    private readonly gateway: ProviderGateway,
  ) {}

  @Operation({
    id: 'getQueueState',
    example: {
      paused: false,
      reason: null,
      since: null,
      note: null,
      paused_by: null,
      backlog: {
        scheduled: 40,
        scheduled_due_soon: 2,
        pending: 120,
        pending_due: 118,
        claimed: 6,
        at_provider: 35,
        oldest_pending_seconds: 11.5,
        in_retry: 0,
      },
      send_rate: { per_second: 9.8, per_second_last_minute: 9.7, plan_limit_per_second: 10 },
      credits: { remaining: 48210, as_of: AT },
      accounts: [
        {
          name: 'default',
          plan: 'standard',
          categories: null,
          teams: null,
          health: 'ok',
          circuit: {
            state: 'closed',
            reason: null,
            since: null,
            last_error: null,
            last_error_at: null,
            probe_at: null,
          },
          recent_calls: {
            window_seconds: 300,
            calls: 2940,
            failures: 0,
            error_rate: 0,
            last_error: null,
            last_error_at: null,
          },
          per_second: 9.8,
          per_second_last_minute: 9.7,
          limit_per_second: 10,
          credits: { remaining: 48210, as_of: AT },
        },
      ],
      jobs: { waiting: 112, active: 6, delayed: 42, failed: 0 },
    },
  })
  @Get('queue')
  @ApiOperation({
    summary:
      'Backlog by state, oldest pending age, send rate against the plan, credits, pause, and each provider account (circuit, rate, credits)',
  })
  @ApiOkResponse({ type: QueueStateView })
  queue(): Promise<QueueStateView> {
    return this.queueState.state();
  }

  /** Stops handing messages to the provider; accepted requests keep queuing, nothing is lost. */
  @Operation({ id: 'pauseSending', example: PAUSE })
  @Post('queue/pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'Pause sending, with a reason; accepted requests keep queuing' })
  @ApiOkResponse({ type: PauseStateView })
  pauseQueue(@CurrentPrincipal() principal: Principal, @Body() dto: PauseDto): Promise<PauseState> {
    return this.pause.pause('manual', {
      note: dto.reason ?? null,
      by: principal.keyId ?? 'admin',
    });
  }

  @Operation({
    id: 'resumeSending',
    example: { paused: false, reason: null, since: null, note: null, paused_by: null },
  })
  @Post('queue/resume')
  @HttpCode(200)
  @ApiOperation({ summary: 'Resume sending (also lifts a credits pause)' })
  @ApiOkResponse({ type: PauseStateView })
  resumeQueue(): Promise<PauseState> {
    return this.pause.resume();
  }

  /** Credits and plan as the provider reports them (one request from the shared budget). */
  @Operation({
    id: 'getProviderAccount',
    summary: "A provider account's credits, plan and rate limit (the default account unless named)",
    errors: {
      400: ['validation_failed'],
      404: ['provider_account_not_found'],
      503: ['provider_unavailable'],
    },
    example: {
      plan: 'standard',
      credits_remaining: 48210,
      rate_limit: { limit: 10, remaining: 9, reset_seconds: 1 },
    },
  })
  @Get('account')
  @ApiOkResponse({ schema: ACCOUNT_SCHEMA })
  @ApiServiceUnavailableResponse({
    description: 'The provider did not answer (`provider_unavailable`)',
    schema: { $ref: '#/components/schemas/ErrorEnvelope' },
  })
  async account(@Query() query: ProviderAccountQuery): Promise<Record<string, unknown>> {
    const name = query.account ?? null;
    if (name !== null && !this.gateway.accountNames().includes(name)) {
      throw new NotFoundError(
        'provider_account_not_found',
        `No provider account named ${name} is configured`,
      );
    }
    try {
      const result = await this.gateway.account(true, name);
      const limits = result.rateLimit;
      return {
        ...result.data,
        // The client's camelCase, in the API's snake_case.
        rate_limit: limits && {
          limit: limits.limit,
          remaining: limits.remaining,
          reset_seconds: limits.resetSeconds,
        },
      };
    } catch (error) {
      if (error instanceof SmsProviderError) {
        throw new ServiceUnavailableError(
          'provider_unavailable',
          `The provider answered: ${error.code}`,
          {
            provider_code: error.providerCode ?? error.code,
          },
        );
      }
      throw error;
    }
  }
}
