import { Controller, Get } from '@nestjs/common';
import {
  ApiExcludeEndpoint,
  ApiOkResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Public } from '../auth/auth.decorators';
import { ApiError } from '../common/errors/api-error';
import { type DependencyState, ReadinessService } from './readiness.service';
import { Operation } from '../common/openapi/operation.decorator';

export interface ReadyBody {
  status: 'ok';
  info: Record<string, DependencyState>;
}

const STATE = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['up', 'down'] },
    message: { type: 'string' },
  },
};
const READY_SCHEMA = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok'] },
    info: { type: 'object', properties: { database: STATE, redis: STATE } },
  },
  example: { status: 'ok', info: { database: { status: 'up' }, redis: { status: 'up' } } },
};

@ApiTags('operations')
@Public()
@Controller('health')
export class HealthController {
  constructor(private readonly readiness: ReadinessService) {}

  /** The process answers: what a liveness probe restarts on, whatever the dependencies do. */
  @Operation({
    id: 'getLiveness',
    summary: 'Liveness: the process answers',
    example: { status: 'ok' },
  })
  @Get('live')
  @ApiOkResponse({
    schema: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } },
  })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** 200 when PostgreSQL and Redis both answer within a second; 503 naming the ones that don't. */
  @Operation({
    id: 'getReadiness',
    summary: 'Readiness: PostgreSQL and Redis answer',
    errors: { 503: ['not_ready'] },
    example: { status: 'ok', info: { database: { status: 'up' }, redis: { status: 'up' } } },
  })
  @Get('ready')
  @ApiOkResponse({ schema: READY_SCHEMA })
  @ApiServiceUnavailableResponse({
    description: 'A dependency is down: `not_ready`, `details` says which (status, message)',
    schema: { $ref: '#/components/schemas/ErrorEnvelope' },
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
