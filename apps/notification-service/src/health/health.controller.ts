import { Controller, Get } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/auth.decorators';
import { ApiError } from '../common/errors/api-error';
import { type DependencyState, ReadinessService } from './readiness.service';

export interface ReadyBody {
  status: 'ok';
  info: Record<string, DependencyState>;
}

@ApiTags('operations')
@Public()
@Controller('health')
export class HealthController {
  constructor(private readonly readiness: ReadinessService) {}

  /** The process answers: what a liveness probe restarts on, whatever the dependencies do. */
  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process answers', operationId: 'getLiveness' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** 200 when PostgreSQL and Redis both answer within a second; 503 naming the ones that don't. */
  @Get('ready')
  @ApiOperation({
    summary: 'Readiness: PostgreSQL and Redis answer',
    operationId: 'getReadiness',
  })
  ready(): Promise<ReadyBody> {
    return this.check();
  }

  /** The first health route, kept for probes configured before /health/ready existed. */
  @Get()
  @ApiExcludeEndpoint()
  legacy(): Promise<ReadyBody> {
    return this.check();
  }

  private async check(): Promise<ReadyBody> {
    const info = await this.readiness.check();
    const down = Object.entries(info).filter(([, state]) => state.status === 'down');
    if (down.length > 0) {
      const what = down.map(([name, state]) => `${name} (${state.message ?? 'down'})`).join(', ');
      throw new ApiError(503, 'not_ready', `Not ready: ${what} down`, info);
    }
    return { status: 'ok', info };
  }
}
