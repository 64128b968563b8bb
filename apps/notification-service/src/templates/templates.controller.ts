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
  PreviewTemplateDto,
  RenderedTemplateResponse,
  TEMPLATE_PAGE,
  TemplateAddressQuery,
  TemplateListQuery,
  TemplatePage,
  TemplateReadQuery,
  TemplateResponse,
  TemplateVersionPage,
  TemplateVersionParams,
  TemplateVersionResponse,
  UpdateTemplateDto,
} from './templates.dto';
import { TemplatesService } from './templates.service';
import { TEMPLATE, versionOf } from '../common/openapi/examples';
import { Operation } from '../common/openapi/operation.decorator';
import { RENDER_ERROR_CODES } from './render-error-codes';

const NOT_FOUND =
  "template_not_found: no such template in the namespace addressed, or it is archived (another team's is answered the same)";
const SHARED = 'forbidden: a shared template (made with an admin key) only admins change';
const OTHER_TEAM = 'forbidden: a team key named another team in owner_team';
const PAGE = `invalid_limit (limit outside 1–${TEMPLATE_PAGE.max}), invalid_cursor`;
const UNPROCESSABLE =
  'invalid_template, missing_variables, invalid_variables, message_too_long, empty_message';

@ApiTags('templates')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'No valid API key' })
@ApiForbiddenResponse({ description: 'The key lacks the scope' })
@Controller('v1/templates')
export class TemplatesController {
  constructor(private readonly templates: TemplatesService) {}

  @Operation({
    id: 'createTemplate',
    summary: 'Create a template (version 1)',
    errors: { 409: ['template_exists'], 422: ['invalid_template', 'message_too_long'] },
    example: { ...TEMPLATE, version: 1 },
  })
  @Post()
  @RequireScope('templates:write')
  @ApiCreatedResponse({ type: TemplateResponse, description: 'Created with version 1' })
  @ApiConflictResponse({
    description:
      'template_exists: the namespace created in has the key (archived keys stay taken), or it is ' +
      "a team's and the shared templates have it; details name which (owner_team, null: shared)",
  })
  @ApiForbiddenResponse({ description: `The key lacks the scope; ${OTHER_TEAM}` })
  @ApiUnprocessableEntityResponse({ description: 'invalid_template, message_too_long' })
  create(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreateTemplateDto,
  ): Promise<TemplateResponse> {
    return this.templates.create(principal, dto);
  }

  @Operation({
    id: 'updateTemplate',
    summary: 'Change a template: a new version',
    errors: { 404: ['template_not_found'], 422: ['invalid_template', 'message_too_long'] },
    example: TEMPLATE,
  })
  @Put(':key')
  @RequireScope('templates:write')
  @ApiOkResponse({ type: TemplateResponse, description: 'The new current version' })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  @ApiForbiddenResponse({ description: `The key lacks the scope; ${SHARED}; ${OTHER_TEAM}` })
  @ApiUnprocessableEntityResponse({ description: 'invalid_template, message_too_long' })
  update(
    @CurrentPrincipal() principal: Principal,
    @Param('key') key: string,
    @Query() query: TemplateAddressQuery,
    @Body() dto: UpdateTemplateDto,
  ): Promise<TemplateResponse> {
    return this.templates.update(principal, key, dto, query.owner_team);
  }

  @Operation({
    id: 'listTemplates',
    summary: 'List templates',
    errors: { 422: ['invalid_cursor', 'invalid_limit'] },
    example: { data: [TEMPLATE], next_cursor: null },
  })
  @Get()
  @RequireScope('templates:read')
  @ApiOkResponse({
    type: TemplatePage,
    description: `A page of templates (${TEMPLATE_PAGE.fallback} unless limit says otherwise), by key then owner`,
  })
  @ApiForbiddenResponse({ description: `The key lacks the scope; ${OTHER_TEAM}` })
  @ApiUnprocessableEntityResponse({ description: PAGE })
  list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: TemplateListQuery,
  ): Promise<TemplatePage> {
    return this.templates.list(principal, query);
  }

  @Operation({
    id: 'getTemplate',
    summary: 'A template at its current version',
    errors: { 404: ['template_not_found'] },
    example: TEMPLATE,
  })
  @Get(':key')
  @RequireScope('templates:read')
  @ApiOkResponse({ type: TemplateResponse })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  @ApiForbiddenResponse({ description: `The key lacks the scope; ${OTHER_TEAM}` })
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('key') key: string,
    @Query() query: TemplateReadQuery,
  ): Promise<TemplateResponse> {
    return this.templates.get(principal, key, query.include_archived, query.owner_team);
  }

  @Operation({
    id: 'listTemplateVersions',
    summary: "A template's versions, oldest first",
    errors: { 404: ['template_not_found'], 422: ['invalid_cursor', 'invalid_limit'] },
    example: {
      data: [
        { ...versionOf(TEMPLATE), version: 1, current: false },
        { ...versionOf(TEMPLATE), current: true },
      ],
      next_cursor: null,
    },
  })
  @Get(':key/versions')
  @RequireScope('templates:read')
  @ApiOkResponse({
    type: TemplateVersionPage,
    description: `A page of versions (${TEMPLATE_PAGE.fallback} unless limit says otherwise), oldest first`,
  })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  @ApiForbiddenResponse({ description: `The key lacks the scope; ${OTHER_TEAM}` })
  @ApiUnprocessableEntityResponse({ description: PAGE })
  listVersions(
    @CurrentPrincipal() principal: Principal,
    @Param('key') key: string,
    @Query() query: TemplateListQuery,
  ): Promise<TemplateVersionPage> {
    return this.templates.listVersions(principal, key, query);
  }

  @Operation({
    id: 'getTemplateVersion',
    summary: 'One version of a template',
    errors: { 404: ['template_not_found', 'template_version_not_found'] },
    example: { ...versionOf(TEMPLATE), current: true },
  })
  @Get(':key/versions/:n')
  @RequireScope('templates:read')
  @ApiOkResponse({ type: TemplateVersionResponse })
  @ApiNotFoundResponse({ description: `${NOT_FOUND}; template_version_not_found` })
  @ApiForbiddenResponse({ description: `The key lacks the scope; ${OTHER_TEAM}` })
  getVersion(
    @CurrentPrincipal() principal: Principal,
    @Param() params: TemplateVersionParams,
    @Query() query: TemplateReadQuery,
  ): Promise<TemplateVersionResponse> {
    return this.templates.getVersion(
      principal,
      params.key,
      params.n,
      query.include_archived,
      query.owner_team,
    );
  }

  @Operation({
    id: 'archiveTemplate',
    summary: 'Archive a template (no new sends; history kept)',
    errors: { 404: ['template_not_found'] },
  })
  @Delete(':key')
  @HttpCode(204)
  @RequireScope('templates:write')
  @ApiNoContentResponse({ description: 'Archived: new notifications get template_not_found' })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  @ApiForbiddenResponse({ description: `The key lacks the scope; ${SHARED}; ${OTHER_TEAM}` })
  async archive(
    @CurrentPrincipal() principal: Principal,
    @Param('key') key: string,
    @Query() query: TemplateAddressQuery,
  ): Promise<void> {
    await this.templates.archive(principal, key, query.owner_team);
  }

  @Operation({
    id: 'previewTemplate',
    summary: 'Render a template with variables, without sending',
    errors: { 404: ['template_not_found'], 422: RENDER_ERROR_CODES },
    example: {
      text: 'Hi Ada, order 8812 is on its way.',
      characters: 33,
      encoding: 'GSM-7',
      segments: 1,
    },
  })
  @Post(':key/preview')
  @HttpCode(200)
  @RequireScope('templates:read')
  @ApiOkResponse({ type: RenderedTemplateResponse })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  @ApiForbiddenResponse({ description: `The key lacks the scope; ${OTHER_TEAM}` })
  @ApiUnprocessableEntityResponse({ description: UNPROCESSABLE })
  preview(
    @CurrentPrincipal() principal: Principal,
    @Param('key') key: string,
    @Query() query: TemplateAddressQuery,
    @Body() dto: PreviewTemplateDto,
  ): Promise<RenderedTemplateResponse> {
    return this.templates.preview(principal, key, dto.variables ?? {}, query.owner_team);
  }
}
