import { Body, Controller, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireScope } from '../auth/auth.decorators';
import type { Principal } from '../auth/scopes';
import { ACCEPTED_MESSAGE, NOTIFICATION_ID } from '../common/openapi/examples';
import { Operation } from '../common/openapi/operation.decorator';
import { RENDER_ERROR_CODES } from '../templates/render-error-codes';
import { TemplateAddressQuery, TemplateDraftParams, TestSendDto } from '../templates/templates.dto';
import { TemplatesService } from '../templates/templates.service';
import { AcceptedNotification } from './notifications.dto';
import { NotificationsService } from './notifications.service';

/** What a test send may answer besides the template's own 404s: what intake refuses. */
const INTAKE_ERRORS = {
  402: ['budget_exceeded'],
  429: ['team_backlog_full'],
  422: ['invalid_phone_number', ...RENDER_ERROR_CODES],
};
const ACCEPTED_TEST = {
  id: NOTIFICATION_ID,
  status: 'accepted',
  template: 'order_shipped',
  template_version: 2,
  scheduled_at: null,
  messages: [ACCEPTED_MESSAGE],
};

/**
 * Test sends from the templates API: one real message to one number, through the intake every
 * notification takes (suppressions, caps, budgets, the queue, the provider), marked `test` on the
 * notification. Here rather than in templates/, which intake depends on.
 */
@ApiTags('templates')
@ApiBearerAuth()
@Controller('v1/templates')
export class TemplateTestsController {
  constructor(
    private readonly templates: TemplatesService,
    private readonly notifications: NotificationsService,
  ) {}

  @Operation({
    id: 'testSendTemplate',
    summary: 'Send the current version to one number, marked as a test',
    errors: { ...INTAKE_ERRORS, 404: ['template_not_found'] },
    example: ACCEPTED_TEST,
  })
  @Post(':key/test')
  @HttpCode(202)
  @RequireScope('templates:write')
  @ApiAcceptedResponse({
    type: AcceptedNotification,
    description:
      "A notification of the key's team with test: true, followed like any other " +
      "(GET /v1/notifications/{id}, the console's Messages page).",
  })
  async testVersion(
    @CurrentPrincipal() principal: Principal,
    @Param('key') key: string,
    @Query() query: TemplateAddressQuery,
    @Body() dto: TestSendDto,
  ): Promise<AcceptedNotification> {
    const version = await this.templates.testVersion(principal, key, query.owner_team);
    return this.send(principal, key, dto, version);
  }

  @Operation({
    id: 'testSendTemplateDraft',
    summary: 'Send a draft to one number, marked as a test (template_version 0)',
    errors: { ...INTAKE_ERRORS, 404: ['template_not_found', 'template_draft_not_found'] },
    example: { ...ACCEPTED_TEST, template_version: 0 },
  })
  @Post(':key/drafts/:id/test')
  @HttpCode(202)
  @RequireScope('templates:write')
  @ApiAcceptedResponse({
    type: AcceptedNotification,
    description: 'As the test of a version; callers still get the published version.',
  })
  async testDraft(
    @CurrentPrincipal() principal: Principal,
    @Param() params: TemplateDraftParams,
    @Query() query: TemplateAddressQuery,
    @Body() dto: TestSendDto,
  ): Promise<AcceptedNotification> {
    const version = await this.templates.testDraft(
      principal,
      params.key,
      params.id,
      query.owner_team,
    );
    return this.send(principal, params.key, dto, version);
  }

  private send(
    principal: Principal,
    key: string,
    dto: TestSendDto,
    version: Awaited<ReturnType<TemplatesService['testVersion']>>,
  ): Promise<AcceptedNotification> {
    return this.notifications.accept(
      principal,
      { template: key, to: dto.to, variables: dto.variables },
      undefined,
      { version },
    );
  }
}
