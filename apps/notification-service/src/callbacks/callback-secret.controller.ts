import { Controller, Get, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireScope } from '../auth/auth.decorators';
import type { Principal } from '../auth/scopes';
import { CallbackSecretInfo, CallbackSecretQuery, CallbackSecretResponse } from './callbacks.dto';
import { CallbacksService } from './callbacks.service';
import { AT } from '../common/openapi/examples';
import { Operation } from '../common/openapi/operation.decorator';

/** The secret a team's status callbacks are signed with (docs/callbacks.md). */
@ApiTags('callbacks')
@ApiBearerAuth()
@RequireScope('notifications:send')
@Controller('v1/callbacks/secret')
export class CallbackSecretController {
  constructor(private readonly callbacks: CallbacksService) {}

  @Operation({
    id: 'rotateCallbackSecret',
    summary: "Rotate the team's callback signing secret",
    example: { team: 'checkout', created_at: AT, secret: 'whsec_Zk3pQ8vN1xR6tB2mY7cL4hF9' },
  })
  @Post()
  @ApiCreatedResponse({
    type: CallbackSecretResponse,
    description: 'Creates or rotates the secret. The secret is in this response only.',
  })
  rotate(
    @CurrentPrincipal() principal: Principal,
    @Query() query: CallbackSecretQuery,
  ): Promise<CallbackSecretResponse> {
    return this.callbacks.rotateSecret(principal, query.team);
  }

  @Operation({
    id: 'getCallbackSecret',
    summary: "The team's callback signing secret (metadata)",
    errors: { 404: ['callback_secret_not_found'] },
    example: { team: 'checkout', created_at: AT },
  })
  @Get()
  @ApiOkResponse({
    type: CallbackSecretInfo,
    description: 'Whether and since when a secret exists; never the secret',
  })
  info(
    @CurrentPrincipal() principal: Principal,
    @Query() query: CallbackSecretQuery,
  ): Promise<CallbackSecretInfo> {
    return this.callbacks.secretInfo(principal, query.team);
  }
}
