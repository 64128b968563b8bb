import { isUuid } from '../common/uuid';
import { Injectable, Logger } from '@nestjs/common';
import type { Principal } from '../auth/scopes';
import { ForbiddenError, NotFoundError } from '../common/errors/api-error';
import { generateCallbackSecret } from './callback-signature';
import type {
  FailedCallbackList,
  CallbackDeliveryList,
  CallbackDeliveryView,
  CallbackSecretInfo,
  CallbackSecretResponse,
} from './callbacks.dto';
import { type CallbackDelivery, CallbacksRepository } from './callbacks.repository';

/** The failed callbacks list is a work queue for a person: the most recent hundred is plenty. */
const MAX_FAILED_LISTED = 100;

/** The API side of status callbacks: the teams' signing secrets and the delivery log. */
@Injectable()
export class CallbacksService {
  private readonly logger = new Logger(CallbacksService.name);

  constructor(private readonly callbacks: CallbacksRepository) {}

  /** Creates or replaces the team's secret; the response is the only time it is shown. */
  async rotateSecret(principal: Principal, team?: string): Promise<CallbackSecretResponse> {
    const owner = resolveTeam(principal, team);
    const stored = await this.callbacks.upsertSecret(owner, generateCallbackSecret());
    this.logger.log(`Callback secret of team ${owner} rotated`);
    return { team: stored.team, secret: stored.secret, created_at: stored.createdAt.toISOString() };
  }

  async secretInfo(principal: Principal, team?: string): Promise<CallbackSecretInfo> {
    const owner = resolveTeam(principal, team);
    const stored = await this.callbacks.findSecret(owner);
    if (!stored) {
      throw new NotFoundError(
        'callback_secret_not_found',
        `Team ${owner} has no callback secret yet; create one with POST /v1/callbacks/secret`,
      );
    }
    return { team: stored.team, created_at: stored.createdAt.toISOString() };
  }

  async listDeliveries(
    principal: Principal,
    notificationId: string,
  ): Promise<CallbackDeliveryList> {
    await this.assertVisible(principal, notificationId);
    const deliveries = await this.callbacks.listForNotification(notificationId);
    return { data: deliveries.map(toView) };
  }

  /** The team's failed callbacks (every team's for an admin key), for an operator to redeliver. */
  async listFailed(principal: Principal): Promise<FailedCallbackList> {
    const failed = await this.callbacks.listFailed(
      principal.isAdmin ? null : principal.team,
      MAX_FAILED_LISTED,
    );
    return { data: failed.map((d) => ({ ...toView(d), notification_id: d.notificationId })) };
  }

  /**
   * Sends the notification's failed callbacks again, each with a new round of attempts: for a
   * receiver that was down longer than the retries lasted. Callbacks not failed are left alone, so
   * a repeated request re-arms nothing new.
   */
  async redeliverFailed(
    principal: Principal,
    notificationId: string,
  ): Promise<CallbackDeliveryList> {
    await this.assertVisible(principal, notificationId);
    const rearmed = await this.callbacks.redeliverFailed(notificationId);
    if (rearmed.length) {
      this.logger.log(
        `${rearmed.length} failed callback(s) of notification ${notificationId} queued for redelivery`,
      );
    }
    return { data: rearmed.map(toView) };
  }

  /** Another team's notification is reported as missing, as GET /v1/notifications/{id} does. */
  private async assertVisible(principal: Principal, notificationId: string): Promise<void> {
    const team = isUuid(notificationId)
      ? await this.callbacks.findNotificationTeam(notificationId)
      : null;
    if (team === null || (!principal.isAdmin && team !== principal.team)) {
      throw new NotFoundError(
        'notification_not_found',
        `No notification with id ${notificationId}`,
      );
    }
  }
}

function resolveTeam(principal: Principal, team: string | undefined): string {
  if (team === undefined || team === principal.team) return principal.team;
  if (!principal.isAdmin) {
    throw new ForbiddenError("Only admin keys may manage another team's callback secret", {
      team: principal.team,
    });
  }
  return team;
}

function toView(d: CallbackDelivery): CallbackDeliveryView {
  return {
    id: d.id,
    message_id: d.messageId,
    event: d.event ?? 'unknown',
    status: d.status,
    attempts: d.attempts,
    last_status_code: d.lastStatusCode,
    last_error: d.lastError,
    next_attempt_at: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
    created_at: d.createdAt.toISOString(),
    updated_at: d.updatedAt.toISOString(),
    delivered_at: d.deliveredAt ? d.deliveredAt.toISOString() : null,
    redelivered_at: d.redeliveredAt ? d.redeliveredAt.toISOString() : null,
  };
}
