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
  PreviewBodyDto,
  PreviewTemplateDto,
  RenderedTemplateResponse,
  TEMPLATE_PAGE,
  TemplateAddressQuery,
  TemplateDiffQuery,
  TemplateDiffResponse,
  TemplateDraftList,
  TemplateDraftParams,
  TemplateDraftResponse,
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
import { MAX_DRAFTS } from './templates.service';
import { Operation } from '../common/openapi/operation.decorator';
import { RENDER_ERROR_CODES } from './render-error-codes';

const NOT_FOUND =
  "template_not_found: no such template in the namespace addressed, or it is archived (another team's is answered the same)";
const SHARED = 'forbidden: a shared template (made with an admin key) only admins change';
const OTHER_TEAM = 'forbidden: a team key named another team in owner_team';
const PAGE = `invalid_limit (limit outside 1–${TEMPLATE_PAGE.max}), invalid_cursor`;
const UNPROCESSABLE =
  'invalid_template, missing_variables, invalid_variables, message_too_long, empty_message';
const DRAFT_NOT_FOUND =
  'template_draft_not_found: the template has no such draft (published or discarded)';
const DRAFTS_RULE =
  "Drafts belong to the namespace a key is changed in: a team works on its own templates' " +
  "drafts, admins on the shared ones (or owner_team's). Callers never see a draft.";

const UCS2_WARNING = {
  code: 'forces_ucs2',
  characters: ['’'],
  segments_now: 3,
  segments_without: 1,
  replaceable: ['’'],
};
const PREVIEW_EXAMPLE = {
  text: 'Hi Ada, order 8812 is on its way.',
  characters: 33,
  encoding: 'GSM-7',
  segments: 1,
  credits_per_recipient: 1,
  variables: ['name', 'order.id'],
  smart_encoding: true,
  original_text: 'Hi Ada, order 8812 is on it’s way.',
  replaced: [{ character: '’', replacement: "'", count: 1 }],
  warnings: [],
};
const DRAFT_EXAMPLE = {
  id: '5a0e7c52-3d47-4c8e-9a55-0d2f4a2b9f10',
  key: TEMPLATE.key,
  owner_team: TEMPLATE.owner_team,
  based_on_version: TEMPLATE.version,
  body: 'Hi {{name}}, order {{order.id}} is on it’s way.',
  variables: TEMPLATE.variables,
  sender_id: TEMPLATE.sender_id,
  description: TEMPLATE.description,
  category: TEMPLATE.category,
  smart_encoding: false,
  warnings: [{ ...UCS2_WARNING, segments_now: 1 }],
  created_at: TEMPLATE.created_at,
  updated_at: TEMPLATE.updated_at,
};

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
    summary: 'Render a template with variables, without sending: the cost and its warnings',
    errors: { 404: ['template_not_found'], 422: ['invalid_template', ...RENDER_ERROR_CODES] },
    example: PREVIEW_EXAMPLE,
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
    return this.templates.preview(principal, key, dto, query.owner_team);
  }

  @Operation({
    id: 'previewTemplateBody',
    summary: 'Render a body that is not saved yet (a template being created)',
    errors: { 422: ['invalid_template', ...RENDER_ERROR_CODES] },
    example: PREVIEW_EXAMPLE,
  })
  @Post('preview')
  @HttpCode(200)
  @RequireScope('templates:read')
  @ApiOkResponse({ type: RenderedTemplateResponse })
  @ApiUnprocessableEntityResponse({ description: UNPROCESSABLE })
  previewBody(@Body() dto: PreviewBodyDto): RenderedTemplateResponse {
    return this.templates.previewBody(dto);
  }

  @Operation({
    id: 'diffTemplateVersions',
    summary: 'Two versions side by side, with a word diff of their bodies',
    errors: { 404: ['template_not_found', 'template_version_not_found'] },
    example: {
      from: {
        ...versionOf(TEMPLATE),
        version: 1,
        current: false,
        body: 'Hi {{name}}, order {{order.id}} shipped.',
      },
      to: { ...versionOf(TEMPLATE), current: true },
      changed: ['body'],
      body_diff: [
        { op: 'equal', text: 'Hi {{name}}, order {{order.id}} ' },
        { op: 'delete', text: 'shipped.' },
        { op: 'insert', text: 'is on its way.' },
      ],
    },
  })
  @Get(':key/diff')
  @RequireScope('templates:read')
  @ApiOkResponse({ type: TemplateDiffResponse })
  @ApiNotFoundResponse({ description: `${NOT_FOUND}; template_version_not_found` })
  @ApiForbiddenResponse({ description: `The key lacks the scope; ${OTHER_TEAM}` })
  diff(
    @CurrentPrincipal() principal: Principal,
    @Param('key') key: string,
    @Query() query: TemplateDiffQuery,
  ): Promise<TemplateDiffResponse> {
    return this.templates.diff(
      principal,
      key,
      query.from,
      query.to,
      query.include_archived,
      query.owner_team,
    );
  }

  @Operation({
    id: 'restoreTemplateVersion',
    summary: 'Roll back: a new version equal to version n (history is never edited)',
    errors: { 404: ['template_not_found', 'template_version_not_found'] },
    example: { ...TEMPLATE, version: 3 },
  })
  @Post(':key/versions/:n/restore')
  @HttpCode(200)
  @RequireScope('templates:write')
  @ApiOkResponse({ type: TemplateResponse, description: 'The new current version, a copy of n' })
  @ApiNotFoundResponse({ description: `${NOT_FOUND}; template_version_not_found` })
  @ApiForbiddenResponse({ description: `The key lacks the scope; ${SHARED}; ${OTHER_TEAM}` })
  restore(
    @CurrentPrincipal() principal: Principal,
    @Param() params: TemplateVersionParams,
    @Query() query: TemplateAddressQuery,
  ): Promise<TemplateResponse> {
    return this.templates.restore(principal, params.key, params.n, query.owner_team);
  }

  @Operation({
    id: 'createTemplateDraft',
    summary: 'Propose a change: a draft that callers never see until it is published',
    errors: {
      404: ['template_not_found'],
      409: ['too_many_drafts'],
      422: ['invalid_template', 'message_too_long'],
    },
    example: DRAFT_EXAMPLE,
  })
  @Post(':key/drafts')
  @RequireScope('templates:write')
  @ApiCreatedResponse({
    type: TemplateDraftResponse,
    description: `The draft. Fields left out are the current version's. ${DRAFTS_RULE}`,
  })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  @ApiConflictResponse({ description: `too_many_drafts: a template has at most ${MAX_DRAFTS}` })
  @ApiForbiddenResponse({ description: `The key lacks the scope; ${SHARED}; ${OTHER_TEAM}` })
  @ApiUnprocessableEntityResponse({ description: 'invalid_template, message_too_long' })
  createDraft(
    @CurrentPrincipal() principal: Principal,
    @Param('key') key: string,
    @Query() query: TemplateAddressQuery,
    @Body() dto: UpdateTemplateDto,
  ): Promise<TemplateDraftResponse> {
    return this.templates.createDraft(principal, key, dto, query.owner_team);
  }

  @Operation({
    id: 'listTemplateDrafts',
    summary: "A template's open drafts, oldest first",
    errors: { 404: ['template_not_found'] },
    example: { data: [DRAFT_EXAMPLE] },
  })
  @Get(':key/drafts')
  @RequireScope('templates:read')
  @ApiOkResponse({ type: TemplateDraftList, description: `At most ${MAX_DRAFTS}. ${DRAFTS_RULE}` })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  @ApiForbiddenResponse({ description: `The key lacks the scope; ${SHARED}; ${OTHER_TEAM}` })
  async listDrafts(
    @CurrentPrincipal() principal: Principal,
    @Param('key') key: string,
    @Query() query: TemplateAddressQuery,
  ): Promise<TemplateDraftList> {
    return { data: await this.templates.listDrafts(principal, key, query.owner_team) };
  }

  @Operation({
    id: 'getTemplateDraft',
    summary: 'One draft',
    errors: { 404: ['template_not_found', 'template_draft_not_found'] },
    example: DRAFT_EXAMPLE,
  })
  @Get(':key/drafts/:id')
  @RequireScope('templates:read')
  @ApiOkResponse({ type: TemplateDraftResponse })
  @ApiNotFoundResponse({ description: `${NOT_FOUND}; ${DRAFT_NOT_FOUND}` })
  @ApiForbiddenResponse({ description: `The key lacks the scope; ${SHARED}; ${OTHER_TEAM}` })
  getDraft(
    @CurrentPrincipal() principal: Principal,
    @Param() params: TemplateDraftParams,
    @Query() query: TemplateAddressQuery,
  ): Promise<TemplateDraftResponse> {
    return this.templates.getDraft(principal, params.key, params.id, query.owner_team);
  }

  @Operation({
    id: 'updateTemplateDraft',
    summary: 'Save a draft again (based on the current version from now on)',
    errors: {
      404: ['template_not_found', 'template_draft_not_found'],
      422: ['invalid_template', 'message_too_long'],
    },
    example: DRAFT_EXAMPLE,
  })
  @Put(':key/drafts/:id')
  @RequireScope('templates:write')
  @ApiOkResponse({
    type: TemplateDraftResponse,
    description:
      'Fields left out are kept from the draft; based_on_version becomes the current one',
  })
  @ApiNotFoundResponse({ description: `${NOT_FOUND}; ${DRAFT_NOT_FOUND}` })
  @ApiForbiddenResponse({ description: `The key lacks the scope; ${SHARED}; ${OTHER_TEAM}` })
  @ApiUnprocessableEntityResponse({ description: 'invalid_template, message_too_long' })
  updateDraft(
    @CurrentPrincipal() principal: Principal,
    @Param() params: TemplateDraftParams,
    @Query() query: TemplateAddressQuery,
    @Body() dto: UpdateTemplateDto,
  ): Promise<TemplateDraftResponse> {
    return this.templates.updateDraft(principal, params.key, params.id, dto, query.owner_team);
  }

  @Operation({
    id: 'discardTemplateDraft',
    summary: 'Discard a draft',
    errors: { 404: ['template_not_found', 'template_draft_not_found'] },
  })
  @Delete(':key/drafts/:id')
  @HttpCode(204)
  @RequireScope('templates:write')
  @ApiNoContentResponse({ description: 'Discarded' })
  @ApiNotFoundResponse({ description: `${NOT_FOUND}; ${DRAFT_NOT_FOUND}` })
  @ApiForbiddenResponse({ description: `The key lacks the scope; ${SHARED}; ${OTHER_TEAM}` })
  async discardDraft(
    @CurrentPrincipal() principal: Principal,
    @Param() params: TemplateDraftParams,
    @Query() query: TemplateAddressQuery,
  ): Promise<void> {
    await this.templates.discardDraft(principal, params.key, params.id, query.owner_team);
  }

  @Operation({
    id: 'previewTemplateDraft',
    summary: 'Render a draft with variables, without sending',
    errors: {
      404: ['template_not_found', 'template_draft_not_found'],
      422: ['invalid_template', ...RENDER_ERROR_CODES],
    },
    example: PREVIEW_EXAMPLE,
  })
  @Post(':key/drafts/:id/preview')
  @HttpCode(200)
  @RequireScope('templates:read')
  @ApiOkResponse({ type: RenderedTemplateResponse })
  @ApiNotFoundResponse({ description: `${NOT_FOUND}; ${DRAFT_NOT_FOUND}` })
  @ApiForbiddenResponse({ description: `The key lacks the scope; ${SHARED}; ${OTHER_TEAM}` })
  @ApiUnprocessableEntityResponse({ description: UNPROCESSABLE })
  previewDraft(
    @CurrentPrincipal() principal: Principal,
    @Param() params: TemplateDraftParams,
    @Query() query: TemplateAddressQuery,
    @Body() dto: PreviewTemplateDto,
  ): Promise<RenderedTemplateResponse> {
    return this.templates.previewDraft(principal, params.key, params.id, dto, query.owner_team);
  }

  @Operation({
    id: 'publishTemplateDraft',
    summary: 'Publish a draft: the next version, live for every caller; the draft is gone',
    errors: {
      404: ['template_not_found', 'template_draft_not_found'],
      409: ['draft_outdated'],
    },
    example: { ...TEMPLATE, version: 3 },
  })
  @Post(':key/drafts/:id/publish')
  @HttpCode(200)
  @RequireScope('templates:write')
  @ApiOkResponse({ type: TemplateResponse, description: 'The new current version' })
  @ApiNotFoundResponse({ description: `${NOT_FOUND}; ${DRAFT_NOT_FOUND}` })
  @ApiConflictResponse({
    description:
      'draft_outdated: another version was made after the draft was last saved (details: ' +
      'based_on_version, current_version); save it again to publish it over that one',
  })
  @ApiForbiddenResponse({ description: `The key lacks the scope; ${SHARED}; ${OTHER_TEAM}` })
  publishDraft(
    @CurrentPrincipal() principal: Principal,
    @Param() params: TemplateDraftParams,
    @Query() query: TemplateAddressQuery,
  ): Promise<TemplateResponse> {
    return this.templates.publishDraft(principal, params.key, params.id, query.owner_team);
  }
}
