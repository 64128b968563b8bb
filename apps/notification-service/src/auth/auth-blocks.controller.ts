import { Controller, Delete, Get, HttpCode, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import { NotFoundError } from '../common/errors/api-error';
import { AuthBlockResponse, BlockKindParam } from './auth-blocks.dto';
import { AuthFailureLimiter } from './auth-failure-limiter';
import { RequireScope } from './auth.decorators';
import { AT } from '../common/openapi/examples';
import { Operation } from '../common/openapi/operation.decorator';

/**
 * What the failed-authentication limiter is refusing now, and a way to end a block early (a
 * caller fixed its stale key and should not wait out the window).
 */
@ApiTags('api-keys')
@ApiBearerAuth()
@RequireScope('admin')
@Controller('v1/auth/blocks')
export class AuthBlocksController {
  constructor(private readonly limiter: AuthFailureLimiter) {}

  @Operation({
    id: 'listAuthBlocks',
    summary: 'Addresses and key prefixes refused for too many failed authentications',
    example: [
      { kind: 'address', value: '203.0.113.7', failures: 20, blocked_until: AT },
      { kind: 'key_prefix', value: 'nk_3kQ9b', failures: 57, blocked_until: AT },
    ],
  })
  @Get()
  @ApiOkResponse({ type: AuthBlockResponse, isArray: true })
  list(): Promise<AuthBlockResponse[]> {
    return this.limiter.blocks();
  }

  @Operation({
    id: 'clearAuthBlock',
    summary: 'End a failed-authentication block now, on every instance',
    errors: { 404: ['auth_block_not_found'] },
  })
  @Delete(':kind/:value')
  @HttpCode(204)
  @ApiParam({ name: 'kind', enum: ['address', 'key_prefix'] })
  @ApiParam({
    name: 'value',
    description: 'The address (an IPv6 address clears its /64) or key prefix, as listed',
    example: '203.0.113.7',
  })
  async clear(@Param() params: BlockKindParam): Promise<void> {
    if (!(await this.limiter.clear(params.kind, params.value))) {
      throw new NotFoundError('auth_block_not_found', `No block on ${params.kind} ${params.value}`);
    }
  }
}
