import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { RequireScope } from '../auth/auth.decorators';
import { ServiceUnavailableError } from '../common/errors/api-error';
import { DispatchService } from '../sending/dispatch.service';
import { PauseService, type PauseState } from '../sending/pause.service';
import { ProviderGateway, SmsProviderError } from '../provider';

@ApiTags('operations')
@ApiBearerAuth()
@RequireScope('admin')
@Controller('v1')
export class OperationsController {
  constructor(
    private readonly pause: PauseService,
    private readonly dispatch: DispatchService,
    private readonly gateway: ProviderGateway,
  ) {}

  @Get('queue')
  async queue(): Promise<PauseState & { jobs: Record<string, number> }> {
    return { ...(await this.pause.state()), jobs: await this.dispatch.counts() };
  }

  /** Stops handing messages to the provider; accepted requests keep queuing, nothing is lost. */
  @Post('queue/pause')
  @HttpCode(200)
  pauseQueue(): Promise<PauseState> {
    return this.pause.pause('manual');
  }

  @Post('queue/resume')
  @HttpCode(200)
  resumeQueue(): Promise<PauseState> {
    return this.pause.resume();
  }

  /** Credits and plan as the provider reports them (one request from the shared budget). */
  @Get('account')
  async account(): Promise<Record<string, unknown>> {
    try {
      const result = await this.gateway.account(true);
      return { ...result.data, rate_limit: result.rateLimit };
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
