import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  Res,
  StreamableFile,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal, RequireScope } from '../auth/auth.decorators';
import type { Principal } from '../auth/scopes';
import { ApiError } from '../common/errors/api-error';
import { AT } from '../common/openapi/examples';
import { Operation } from '../common/openapi/operation.decorator';
import { MAX_IMPORT_ROWS } from './suppression-csv';
import {
  CreateSuppressionDto,
  ImportResult,
  ImportSuppressionsQuery,
  ListSuppressionsQuery,
  RemoveSuppressionQuery,
  Suppression,
  SuppressionPage,
} from './suppressions.dto';
import { SuppressionsService } from './suppressions.service';

const ENTRY = {
  id: '0b7c3f6e-2a51-4f7e-9d0c-5a1e8b2c4d10',
  to: '+4915123456789',
  scope: 'marketing',
  reason: 'Asked by phone to receive no offers',
  source: 'crm',
  created_at: AT,
  created_by_key: '5d2f8a1c-7b3e-4c9d-8e6f-1a2b3c4d5e6f',
  created_by_team: 'crm',
  removed_at: null,
  removed_by_key: null,
  removed_by_team: null,
  removal_reason: null,
};

@ApiTags('suppressions')
@ApiBearerAuth()
@Controller('v1/suppressions')
export class SuppressionsController {
  constructor(private readonly suppressions: SuppressionsService) {}

  @Operation({
    id: 'addSuppression',
    errors: { 422: ['invalid_phone_number'] },
    example: ENTRY,
  })
  @Post()
  @RequireScope('suppressions:write')
  @ApiOperation({
    summary: 'Stop messages to a number: marketing only, or all but one-time codes',
    description:
      '201 with the new entry; 200 with the live entry when the number already has one for ' +
      'this scope (adding twice, or at once, keeps one entry). The list is company-wide.',
  })
  @ApiCreatedResponse({ type: Suppression })
  @ApiOkResponse({ type: Suppression, description: 'The number and scope were already listed' })
  async add(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreateSuppressionDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Suppression> {
    const { created, entry } = await this.suppressions.add(principal, dto);
    void reply.status(created ? 201 : 200);
    return entry;
  }

  @Operation({
    id: 'listSuppressions',
    errors: { 422: ['invalid_phone_number', 'invalid_cursor', 'invalid_limit'] },
    example: { data: [{ ...ENTRY, to: '+49*******0089' }], next_cursor: null },
  })
  @Get()
  @RequireScope('suppressions:read')
  @ApiOperation({
    summary: 'The suppression list, newest first, or one number’s entries',
    description:
      'Keyset-paged (next_cursor). Numbers are masked, except for an exact lookup (to=), whose ' +
      'caller knows the number. Live entries only unless include_removed=true.',
  })
  @ApiOkResponse({ type: SuppressionPage })
  list(@Query() query: ListSuppressionsQuery): Promise<SuppressionPage> {
    return this.suppressions.list(query);
  }

  @Operation({
    id: 'exportSuppressions',
    summary: 'Every live entry as CSV (to,scope,reason,source,created_at), numbers unmasked',
    textExamples: {
      'text/csv':
        'to,scope,reason,source,created_at\r\n' +
        `+4915123456789,marketing,Asked by phone to receive no offers,crm,${AT}\r\n`,
    },
  })
  @Get('export')
  @RequireScope('suppressions:read')
  @ApiProduces('text/csv')
  @ApiOkResponse({
    description:
      'text/csv (attachment suppressions.csv), oldest first, written while it is read 5,000 ' +
      'entries at a time: the whole list, whatever its size, in bounded memory. Reason and ' +
      'source cells starting with = + - @ get a leading quote (spreadsheet formulas).',
  })
  export(): StreamableFile {
    return new StreamableFile(this.suppressions.export(), {
      type: 'text/csv; charset=utf-8',
      disposition: 'attachment; filename="suppressions.csv"',
    });
  }

  @Operation({
    id: 'importSuppressions',
    errors: { 422: ['invalid_csv', 'too_many_rows'] },
    example: { imported: 980, skipped: 20 },
  })
  @Post('import')
  @HttpCode(200)
  @RequireScope('suppressions:write')
  @ApiOperation({
    summary: 'Add many entries from a CSV file, all or nothing',
    description:
      'Body text/csv (at most 8 MiB): a header naming the columns to, scope and optionally ' +
      'reason and source (created_at is read and ignored: an export imports as it is), then at ' +
      `most ${MAX_IMPORT_ROWS.toLocaleString('en-US')} rows. One transaction: any bad line ` +
      'refuses the whole file with 422 invalid_csv, whose details list the problems with their ' +
      'line numbers (line 1 is the header). Numbers and scopes already listed are skipped. A ' +
      'row without a source gets the source parameter (csv_import by default).',
  })
  @ApiConsumes('text/csv')
  @ApiBody({
    schema: {
      type: 'string',
      example: 'to,scope,reason\n+4915123456789,marketing,Asked by phone\n+14155550100,all,\n',
    },
  })
  @ApiOkResponse({ type: ImportResult })
  import(
    @CurrentPrincipal() principal: Principal,
    @Body() body: unknown,
    @Query() query: ImportSuppressionsQuery,
  ): Promise<ImportResult> {
    if (typeof body !== 'string') {
      throw new ApiError(415, 'unsupported_media_type', 'The body must be text/csv');
    }
    return this.suppressions.import(principal, body, query.source ?? 'csv_import');
  }

  @Operation({
    id: 'removeSuppression',
    summary: 'Let messages reach a number again; the entry is kept as history',
    errors: { 404: ['suppression_not_found'], 422: ['invalid_phone_number'] },
  })
  @Delete(':to')
  @HttpCode(204)
  @RequireScope('suppressions:write')
  @ApiParam({
    name: 'to',
    description: 'The number in E.164, its + written as is or as %2B',
    example: '+4915123456789',
  })
  async remove(
    @CurrentPrincipal() principal: Principal,
    @Param('to') to: string,
    @Query() query: RemoveSuppressionQuery,
  ): Promise<void> {
    await this.suppressions.remove(principal, to, query);
  }
}
