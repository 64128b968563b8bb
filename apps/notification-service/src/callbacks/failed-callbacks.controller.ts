import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireScope } from '../auth/auth.decorators';
import type { Principal } from '../auth/scopes';
import { FailedCallbackList } from './callbacks.dto';
import { CallbacksService } from './callbacks.service';
import { CALLBACK_DELIVERY, NOTIFICATION_ID } from '../common/openapi/examples';
import { Operation } from '../common/openapi/operation.decorator';

@ApiTags('callbacks')
@ApiBearerAuth()
@Controller('v1/callbacks/failed')
export class FailedCallbacksController {
  constructor(private readonly callbacks: CallbacksService) {}

  @Operation({
    id: 'listFailedCallbacks',
    example: {
      data: [
        {
          ...CALLBACK_DELIVERY,
          status: 'failed',
          attempts: 8,
          last_status_code: 503,
          last_error: 'HTTP 503',
          delivered_at: null,
          notification_id: NOTIFICATION_ID,
        },
      ],
    },
  })
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
