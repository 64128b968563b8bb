import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { RequireScope } from '../auth/auth.decorators';
import {
  CreateTemplateDto,
  IncludeArchivedQuery,
  PreviewTemplateDto,
  RenderedTemplateResponse,
  TemplateResponse,
  TemplateVersionParams,
  TemplateVersionResponse,
  UpdateTemplateDto,
} from './templates.dto';
import { TemplatesService } from './templates.service';

const NOT_FOUND = 'template_not_found: no such template, or it is archived';
const UNPROCESSABLE =
  'invalid_template, missing_variables, invalid_variables, message_too_long, empty_message';

@ApiTags('templates')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'No valid API key' })
@ApiForbiddenResponse({ description: 'The key lacks the scope' })
@Controller('v1/templates')
export class TemplatesController {
  constructor(private readonly templates: TemplatesService) {}

  @Post()
  @RequireScope('templates:write')
  @ApiCreatedResponse({ type: TemplateResponse, description: 'Created with version 1' })
  @ApiConflictResponse({ description: 'template_exists (archived keys stay taken)' })
  @ApiUnprocessableEntityResponse({ description: 'invalid_template, message_too_long' })
  create(@Body() dto: CreateTemplateDto): Promise<TemplateResponse> {
    return this.templates.create(dto);
  }

  @Put(':key')
  @RequireScope('templates:write')
  @ApiOkResponse({ type: TemplateResponse, description: 'The new current version' })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  @ApiUnprocessableEntityResponse({ description: 'invalid_template, message_too_long' })
  update(@Param('key') key: string, @Body() dto: UpdateTemplateDto): Promise<TemplateResponse> {
    return this.templates.update(key, dto);
  }

  @Get()
  @RequireScope('templates:read')
  @ApiOkResponse({ type: TemplateResponse, isArray: true, description: 'Sorted by key' })
  list(@Query() query: IncludeArchivedQuery): Promise<TemplateResponse[]> {
    return this.templates.list(query.include_archived);
  }

  @Get(':key')
  @RequireScope('templates:read')
  @ApiOkResponse({ type: TemplateResponse })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  get(@Param('key') key: string, @Query() query: IncludeArchivedQuery): Promise<TemplateResponse> {
    return this.templates.get(key, query.include_archived);
  }

  @Get(':key/versions')
  @RequireScope('templates:read')
  @ApiOkResponse({
    type: TemplateVersionResponse,
    isArray: true,
    description: 'Every version, oldest first',
  })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  listVersions(
    @Param('key') key: string,
    @Query() query: IncludeArchivedQuery,
  ): Promise<TemplateVersionResponse[]> {
    return this.templates.listVersions(key, query.include_archived);
  }

  @Get(':key/versions/:n')
  @RequireScope('templates:read')
  @ApiOkResponse({ type: TemplateVersionResponse })
  @ApiNotFoundResponse({ description: `${NOT_FOUND}; template_version_not_found` })
  getVersion(
    @Param() params: TemplateVersionParams,
    @Query() query: IncludeArchivedQuery,
  ): Promise<TemplateVersionResponse> {
    return this.templates.getVersion(params.key, params.n, query.include_archived);
  }

  @Delete(':key')
  @HttpCode(204)
  @RequireScope('templates:write')
  @ApiNoContentResponse({ description: 'Archived: new notifications get template_not_found' })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  async archive(@Param('key') key: string): Promise<void> {
    await this.templates.archive(key);
  }

  @Post(':key/preview')
  @HttpCode(200)
  @RequireScope('templates:read')
  @ApiOkResponse({ type: RenderedTemplateResponse })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  @ApiUnprocessableEntityResponse({ description: UNPROCESSABLE })
  preview(
    @Param('key') key: string,
    @Body() dto: PreviewTemplateDto,
  ): Promise<RenderedTemplateResponse> {
    return this.templates.preview(key, dto.variables ?? {});
  }
}
