import { AppConfig } from '../config/app-config';
import {
  type CursorPosition,
  decodeCursor,
  LIST_LIMITS,
  pageLimit,
  toPage,
} from '../common/pagination';
import { isUuid } from '../common/uuid';
import { Injectable, Logger } from '@nestjs/common';
import type { Principal } from '../auth/scopes';
import { ConflictError, NotFoundError, UnprocessableError } from '../common/errors/api-error';
import { parseInstant } from '../common/iso-instant';
import { MessageLifecycleRepository } from '../delivery-status/message-lifecycle.repository';
import { MessageQueriesRepository } from '../delivery-status/message-queries.repository';
import type { MessageListEntry, MessageQuery } from '../delivery-status/message-search';
import { iso, type Masking, toMessageCore } from '../delivery-status/message-view';
import { toTimelineEntry } from '../delivery-status/message-timeline';
import { maskPhone, maskPhonesIn } from '../logging/mask';
import { DispatchService } from '../sending/dispatch.service';
import {
  type BulkResendDto,
  type BulkResendResult,
  type MessageDetail,
  type MessageFilter,
  type MessagePage,
  type MessageSummary,
  RESENDABLE_STATUSES,
  type ResendResult,
  type SearchMessagesQuery,
} from './messages.dto';

/** One bulk call resends at most this many; `remaining` tells the caller to call again. */
export const MAX_BULK_RESEND = 1000;

@Injectable()
export class MessagesService {
  private readonly logger = new Logger(MessagesService.name);

  constructor(
    private readonly messages: MessageQueriesRepository,
    private readonly lifecycle: MessageLifecycleRepository,
    private readonly dispatch: DispatchService,
    private readonly config: AppConfig,
  ) {}

  async search(principal: Principal, query: SearchMessagesQuery): Promise<MessagePage> {
    const limit = pageLimit(query.limit, LIST_LIMITS);
    const rows = await this.messages.search(
      {
        ...filterOf(principal, query),
        to: query.to,
        providerMessageId: query.provider_message_id,
        notificationId: query.notification_id,
        reference: query.reference,
        category: query.category,
        before: query.cursor === undefined ? undefined : decodeCursor(query.cursor, readPosition),
      },
      limit + 1,
    );
    return toPage(rows, limit, positionOf, toSummary);
  }

  async get(principal: Principal, id: string): Promise<MessageDetail> {
    const entry = await this.findVisible(principal, id);
    const events = await this.messages.timeline(entry.message.id);
    return {
      ...toSummary(entry),
      events: events.map(toTimelineEntry),
    };
  }

  /**
   * A new message in place of a failed or expired one. Asking twice answers the first resend
   * (`created: false`): a message is resent at most once, so a retried request sends nothing more.
   */
  async resend(principal: Principal, id: string): Promise<ResendResult> {
    const found = await this.findVisible(principal, id);
    const original = found.message;
    if (found.resentAs !== null) {
      return {
        created: false,
        message: toSummary(await this.findVisible(principal, found.resentAs)),
      };
    }
    if (!(RESENDABLE_STATUSES as readonly string[]).includes(original.status)) {
      throw new ConflictError(
        'not_resendable',
        `Only failed or expired messages can be resent; this one is ${original.status}`,
        { status: original.status },
      );
    }
    const [created] = await this.createAndDispatch(principal, [original.id]);
    // Lost a race with a concurrent resend of the same message: answer with that one.
    const resentAs = created?.id ?? (await this.findVisible(principal, original.id)).resentAs;
    if (resentAs === null) throw new Error(`resend of ${original.id} created nothing`);
    return {
      created: created !== undefined,
      message: toSummary(await this.findVisible(principal, resentAs)),
    };
  }

  /** Resends every failed or expired message matching the filter, oldest first, or counts them. */
  async bulkResend(principal: Principal, dto: BulkResendDto): Promise<BulkResendResult> {
    if (
      dto.status !== undefined &&
      !(RESENDABLE_STATUSES as readonly string[]).includes(dto.status)
    ) {
      throw new UnprocessableError(
        'not_resendable',
        'Only failed or expired messages can be resent: status must be failed or expired',
        { status: dto.status },
      );
    }
    const query: MessageQuery = { ...filterOf(principal, dto), notResent: true };
    query.statuses = dto.status === undefined ? RESENDABLE_STATUSES : [dto.status];
    const matched = await this.messages.countMatching(query);
    if (dto.dry_run === true) {
      return { matched, resent: 0, remaining: matched, dry_run: true };
    }
    const ids = await this.messages.idsMatching(query, MAX_BULK_RESEND);
    const created = await this.createAndDispatch(principal, ids);
    return {
      matched,
      resent: created.length,
      remaining: Math.max(matched - ids.length, 0),
      dry_run: false,
    };
  }

  private async createAndDispatch(principal: Principal, ids: string[]) {
    const created = await this.lifecycle.createResends(
      ids,
      // The bootstrap admin key has no id: the audit names it as the pause does.
      { requested_by: principal.keyId ?? 'admin' },
      this.config.protection.validityMs,
    );
    // After the commit, as intake does: if Redis is down the sweeper enqueues them later.
    await this.dispatch.dispatchNew(created).catch((error: unknown) => {
      this.logger.warn(`Enqueue after resend failed; the sweeper will retry: ${String(error)}`);
    });
    return created;
  }

  /** Another team's message is reported as missing, not forbidden: ids don't leak. */
  private async findVisible(principal: Principal, id: string): Promise<MessageListEntry> {
    const [row] = isUuid(id)
      ? await this.messages.search({ team: principal.isAdmin ? null : principal.team, id }, 1)
      : [];
    if (!row) throw new NotFoundError('message_not_found', `No message with id ${id}`);
    return row;
  }
}

function filterOf(principal: Principal, filter: MessageFilter): MessageQuery {
  return {
    team: principal.isAdmin ? null : principal.team,
    statuses: filter.status === undefined ? undefined : [filter.status],
    errorCode: filter.error_code,
    template: filter.template,
    since: filter.since === undefined ? undefined : (parseInstant(filter.since) ?? undefined),
    until: filter.until === undefined ? undefined : (parseInstant(filter.until) ?? undefined),
  };
}

/** Lists name other teams' and people's numbers: masked, whoever asks. */
const MASKED: Masking = { phone: maskPhone, text: maskPhonesIn };

export function toSummary(entry: MessageListEntry): MessageSummary {
  const m = entry.message;
  return {
    ...toMessageCore(m, MASKED),
    notification_id: m.notificationId,
    team: entry.team,
    template: entry.templateKey,
    reference: entry.reference,
    completed_at: iso(m.completedAt),
    resend_of: m.resendOf,
    resent_as: entry.resentAs,
  };
}

/** The search's sort position: submitted_at to the microsecond, then id. */
function positionOf(entry: MessageListEntry): CursorPosition {
  return [entry.cursorAt, entry.message.id];
}

function readPosition([at, id]: unknown[]): { at: string; id: string } | null {
  return typeof at === 'string' &&
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(at) &&
    // A real time PostgreSQL takes (no month 13, no year 0).
    parseInstant(at) !== null &&
    isUuid(id)
    ? { at, id }
    : null;
}
