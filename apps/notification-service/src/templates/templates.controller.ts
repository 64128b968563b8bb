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
import { CurrentPrincipal, RequireScope } from '../auth/auth.decorators';
import type { Principal } from '../auth/scopes';
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

const NOT_FOUND = "template_not_found: no such template, it is archived, or it is another team's";
const SHARED = 'forbidden: a shared template (made with an admin key) only admins change';
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
  create(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreateTemplateDto,
  ): Promise<TemplateResponse> {
    return this.templates.create(principal, dto);
  }

  @Put(':key')
  @RequireScope('templates:write')
  @ApiOkResponse({ type: TemplateResponse, description: 'The new current version' })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  @ApiForbiddenResponse({ description: `The key lacks the scope; ${SHARED}` })
  @ApiUnprocessableEntityResponse({ description: 'invalid_template, message_too_long' })
  update(
    @CurrentPrincipal() principal: Principal,
    @Param('key') key: string,
    @Body() dto: UpdateTemplateDto,
  ): Promise<TemplateResponse> {
    return this.templates.update(principal, key, dto);
  }

  @Get()
  @RequireScope('templates:read')
  @ApiOkResponse({ type: TemplateResponse, isArray: true, description: 'Sorted by key' })
  list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: IncludeArchivedQuery,
  ): Promise<TemplateResponse[]> {
    return this.templates.list(principal, query.include_archived);
  }

  @Get(':key')
  @RequireScope('templates:read')
  @ApiOkResponse({ type: TemplateResponse })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('key') key: string,
    @Query() query: IncludeArchivedQuery,
  ): Promise<TemplateResponse> {
    return this.templates.get(principal, key, query.include_archived);
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
    @CurrentPrincipal() principal: Principal,
    @Param('key') key: string,
    @Query() query: IncludeArchivedQuery,
  ): Promise<TemplateVersionResponse[]> {
    return this.templates.listVersions(principal, key, query.include_archived);
  }

  @Get(':key/versions/:n')
  @RequireScope('templates:read')
  @ApiOkResponse({ type: TemplateVersionResponse })
  @ApiNotFoundResponse({ description: `${NOT_FOUND}; template_version_not_found` })
  getVersion(
    @CurrentPrincipal() principal: Principal,
    @Param() params: TemplateVersionParams,
    @Query() query: IncludeArchivedQuery,
  ): Promise<TemplateVersionResponse> {
    return this.templates.getVersion(principal, params.key, params.n, query.include_archived);
  }

  @Delete(':key')
  @HttpCode(204)
  @RequireScope('templates:write')
  @ApiNoContentResponse({ description: 'Archived: new notifications get template_not_found' })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  @ApiForbiddenResponse({ description: `The key lacks the scope; ${SHARED}` })
  async archive(
    @CurrentPrincipal() principal: Principal,
    @Param('key') key: string,
  ): Promise<void> {
    await this.templates.archive(principal, key);
  }

  @Post(':key/preview')
  @HttpCode(200)
  @RequireScope('templates:read')
  @ApiOkResponse({ type: RenderedTemplateResponse })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  @ApiUnprocessableEntityResponse({ description: UNPROCESSABLE })
  preview(
    @CurrentPrincipal() principal: Principal,
    @Param('key') key: string,
    @Body() dto: PreviewTemplateDto,
  ): Promise<RenderedTemplateResponse> {
    return this.templates.preview(principal, key, dto.variables ?? {});
  }
}
