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
import { RequireScope } from './auth.decorators';

@ApiTags('api-keys')
@ApiBearerAuth()
@RequireScope('admin')
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @ApiCreatedResponse({ type: CreatedApiKeyResponse })
  create(@Body() dto: CreateApiKeyDto): Promise<CreatedApiKeyResponse> {
    return this.keys.create(dto);
  }

  @Get()
  @ApiOkResponse({
    type: ApiKeyResponse,
    isArray: true,
    description: `Active keys, then revoked ones, each oldest first; at most ${MAX_API_KEYS_LISTED.toLocaleString('en-US')}`,
  })
  list(): Promise<ApiKeyResponse[]> {
    return this.keys.list();
  }

  @Delete(':id')
  @HttpCode(204)
  async revoke(@Param('id', new ParseUUIDPipe()) id: string): Promise<void> {
    await this.keys.revoke(id);
  }
}
