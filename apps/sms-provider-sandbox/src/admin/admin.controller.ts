import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import { AccountsService } from '../accounts/accounts.service';
import { FaultsService, type FaultState } from '../faults/faults.service';
import { RequestLogService, type RequestLogEntry } from '../request-log/request-log.service';
import { ADMIN_PREFIX } from '../request-log/request-log.hooks';
import { parseAccountPatch, parseFaultsPatch, parseSince } from './admin.dto';
import { AdminService } from './admin.service';

/** Test and demo controls. No auth, no rate limit, no injected faults, not in the request log. */
@Controller(ADMIN_PREFIX.slice(1))
export class AdminController {
  constructor(
    private readonly admin: AdminService,
    private readonly accounts: AccountsService,
    private readonly faults: FaultsService,
    private readonly requestLog: RequestLogService,
  ) {}

  @Get('requests')
  requests(@Query('since') since?: string, @Query('key') key?: string): RequestLogEntry[] {
    return this.requestLog.list({ since: parseSince(since), key: key || undefined });
  }

  @Delete('requests')
  @HttpCode(HttpStatus.NO_CONTENT)
  clearRequests(): void {
    this.requestLog.clear();
  }

  @Get('faults')
  currentFaults() {
    return faultsView(this.faults.current());
  }

  @Post('faults')
  @HttpCode(HttpStatus.OK)
  setFaults(@Body() body: unknown) {
    return faultsView(this.faults.update(parseFaultsPatch(body)));
  }

  /** Creates the key when it does not exist (standard plan, 100000 credits unless told). */
  @Put('accounts/:key')
  putAccount(@Param('key') key: string, @Body() body: unknown) {
    return this.admin.accountView(this.accounts.upsert(key, parseAccountPatch(body)));
  }

  @Get('messages')
  messages(@Query('key') key?: string) {
    return this.admin.messageViews({ key: key || undefined });
  }

  @Get('webhooks')
  webhookAttempts(@Query('message_id') messageId?: string) {
    return this.admin.webhookAttempts({ messageId: messageId || undefined });
  }

  @Get('webhooks/subscriptions')
  subscriptions() {
    return this.admin.subscriptionViews();
  }

  @Post('reset')
  @HttpCode(HttpStatus.NO_CONTENT)
  reset(): void {
    this.admin.reset();
  }
}

function faultsView(state: Readonly<FaultState>) {
  return {
    error_rate: state.errorRate,
    latency_ms: state.latencyMs,
    forward_delay_ms: state.forwardDelayMs,
    return_delay_ms: state.returnDelayMs,
    force_429: state.force429,
    rate_limit_rate: state.rateLimitRate,
    fail_next: state.failNext,
    scope: state.scope,
  };
}
