import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
} from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiKeyResponse, CreateApiKeyDto, CreatedApiKeyResponse } from './api-keys.dto';
import { MAX_API_KEYS_LISTED } from './api-keys-list';
import { ApiKeysService } from './api-keys.service';
import { CurrentPrincipal, RequireScope } from './auth.decorators';
import type { Principal } from './scopes';
import { API_KEY } from '../common/openapi/examples';
import { Operation } from '../common/openapi/operation.decorator';

@ApiTags('api-keys')
@ApiBearerAuth()
@RequireScope('admin')
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Operation({
    id: 'createApiKey',
    summary: 'Create an API key (shown once)',
    example: { ...API_KEY, last_used_at: null, key: 'nk_3kQ9bX7mV2pL8sR4tW6yZ1cF5hJ0aD2eG4iK6' },
  })
  @Post()
  @ApiCreatedResponse({ type: CreatedApiKeyResponse })
  create(@Body() dto: CreateApiKeyDto): Promise<CreatedApiKeyResponse> {
    return this.keys.create(dto);
  }

  @Operation({
    id: 'listApiKeys',
    summary:
      "List API keys (never the keys themselves): every team's for admin, else the own team's",
    example: [API_KEY],
  })
  @Get()
  @RequireScope('keys:read')
  @ApiOkResponse({
    type: ApiKeyResponse,
    isArray: true,
    description: `Active keys, then revoked ones, each oldest first; at most ${MAX_API_KEYS_LISTED.toLocaleString('en-US')}`,
  })
  list(@CurrentPrincipal() principal: Principal): Promise<ApiKeyResponse[]> {
    return this.keys.list(principal);
  }

  @Operation({
    id: 'revokeApiKey',
    summary: 'Revoke an API key',
    errors: { 404: ['api_key_not_found'] },
  })
  @Delete(':id')
  @HttpCode(204)
  async revoke(@Param('id', new ParseUUIDPipe()) id: string): Promise<void> {
    await this.keys.revoke(id);
  }
}
