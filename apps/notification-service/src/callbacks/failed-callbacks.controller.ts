import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireScope } from '../auth/auth.decorators';
import type { Principal } from '../auth/scopes';
import { FailedCallbackList } from './callbacks.dto';
import { CallbacksService } from './callbacks.service';

@ApiTags('callbacks')
@ApiBearerAuth()
@Controller('v1/callbacks/failed')
export class FailedCallbacksController {
  constructor(private readonly callbacks: CallbacksService) {}

  @Get()
  @RequireScope('notifications:read')
  @ApiOperation({
    summary: 'Status callbacks that ran out of attempts, across notifications (own team)',
  })
  @ApiOkResponse({ type: FailedCallbackList })
  list(@CurrentPrincipal() principal: Principal): Promise<FailedCallbackList> {
    return this.callbacks.listFailed(principal);
  }
}
