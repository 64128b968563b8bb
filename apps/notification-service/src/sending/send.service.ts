import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { sleep } from '../common/sleep';
import { MessageLifecycleRepository } from '../delivery-status/message-lifecycle.repository';
import { MessageQueriesRepository } from '../delivery-status/message-queries.repository';
import { UNSENT_STATUSES } from '../delivery-status/message-status';
import { ProviderUpdatesService } from '../delivery-status/provider-updates.service';
import { runWithLogContext } from '../logging/log-context';
import { TraceLinks } from '../tracing/trace-links.service';
import { maskPhone, maskPhonesIn } from '../logging/mask';
import { MetricsService } from '../metrics/metrics.service';
import type { Message } from '../delivery-status/message';
import { CallAbandonedError, ProviderGateway, SmsProviderError } from '../provider';
import {
  RECIPIENT_RATE_LIMITED,
  RECIPIENT_SUPPRESSED,
  VALIDITY_ELAPSED,
} from '../common/recipient-error-codes';
import { quietUntil } from '../recipient-protection/quiet-hours';
import { RecipientCap } from '../recipient-protection/recipient-cap.service';
import { TeamBudgets } from '../teams/team-budgets';
import { DispatchService } from './dispatch.service';
import { VALIDITY_ELAPSED_MESSAGE } from './sending.constants';
import { PauseService } from './pause.service';
import type { SendJobData } from './sending.constants';
import { WorkerLease } from './worker-lease.service';
import { decideProviderError } from './provider-error-policy';

/** A job that arrives this early for its message is put back rather than held by a worker. */
const MAX_HOLD_MS = 2000;

/**
 * One send attempt for one message. Bull delivers jobs at least once, so this re-reads the message
 * and lets the database decide: only a claim (a conditional UPDATE) lets a worker call the
 * provider, and the outcome is committed right after the call.
 */
@Injectable()
export class SendService {
  private readonly logger = new Logger(SendService.name);

  constructor(
    private readonly lifecycle: MessageLifecycleRepository,
    private readonly queries: MessageQueriesRepository,
    private readonly lease: WorkerLease,
    private readonly gateway: ProviderGateway,
    private readonly dispatch: DispatchService,
    private readonly pause: PauseService,
    private readonly updates: ProviderUpdatesService,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
    private readonly traceLinks: TraceLinks,
    private readonly cap: RecipientCap,
    private readonly budgets: TeamBudgets,
  ) {}

  async handle(job: SendJobData): Promise<void> {
    const found = await this.queries.findById(job.messageId);
    if (!found) return;
    await runWithLogContext({ notification_id: found.notificationId }, () =>
      this.handleMessage(found, job),
    );
  }

  private async handleMessage(found: Message, job: SendJobData): Promise<void> {
    let message: Message | null = found;
    // Obsolete job: a newer attempt was planned, or the message moved on or is being sent.
    if (message.dispatchSeq !== job.seq || message.claimedAt) return;
    if (message.status !== 'scheduled' && message.status !== 'pending') return;

    const dueIn = (message.nextAttemptAt?.getTime() ?? 0) - Date.now();
    // Far too early (a clock change, a job promoted by hand): don't hold a worker; the sweeper
    // plans it again when it is due.
    if (dueIn > MAX_HOLD_MS) return;
    if (dueIn > 0) await sleep(dueIn);

    if (message.expiresAt && message.expiresAt.getTime() <= Date.now()) {
      await this.expire(message);
      return;
    }
    // A retry or a late job may fall into the recipient's quiet hours: it waits them out.
    if (await this.deferIfQuiet(message)) return;
    // A team over its hard-stop budget: the message waits (looked at again each minute), kept.
    if (await this.deferIfHeld(message)) return;
    // Counted per message id, so a message intake counted is not counted again; one script call.
    const [allowed] = await this.cap.take([
      { messageId: message.id, recipient: message.recipient, category: message.category },
    ]);
    if (!allowed) {
      await this.refuse(message, RECIPIENT_RATE_LIMITED, capMessage(message, this.config));
      return;
    }
    if (message.status === 'scheduled') {
      message = await this.lifecycle.move({ id: message.id }, { to: 'pending', source: 'worker' });
      if (!message) return;
    }

    // Without a live lease the fleet may already hold our claims void: take none. The job ends
    // and the sweeper plans the message again once it finds it due without a job.
    if (!this.lease.isHeld()) return;
    const token = randomUUID();
    const { batchMax, batchWindowMs } = this.config.sending;
    const claimed: { message: Message; mates?: Message[] } | { suppressed: true } | null =
      batchMax > 1
        ? await this.lifecycle.claimBatch(message, token, this.lease.id, {
            max: batchMax - 1,
            windowMs: batchWindowMs,
          })
        : await this.lifecycle.claim(message.id, token, this.lease.id);
    if (claimed && 'suppressed' in claimed) {
      await this.refuse(
        message,
        RECIPIENT_SUPPRESSED,
        `The recipient was added to the suppression list for ${message.category} messages while the message waited`,
      );
      return;
    }
    if (!claimed) {
      const current = await this.queries.findById(message.id);
      if (current && current.status === 'pending' && !current.claimedAt && isExpired(current)) {
        await this.expire(current);
      }
      return;
    }
    const batch = [claimed.message, ...(await this.capMates(claimed.mates ?? [], token))];
    // A mate scheduled within the window is not sent before its time: the request waits for the
    // latest of them (at most SEND_BATCH_WINDOW_MS), so the leader is that much later instead.
    const wait = Math.max(...batch.map((m) => m.nextAttemptAt?.getTime() ?? 0)) - Date.now();
    if (wait > 0) await sleep(wait);
    await this.attempt(batch, token);
  }

  /**
   * The other messages claimed to share the leader's request (see claimBatch in the lifecycle)
   * are each counted against their recipient's cap like any message before its send (per
   * message id, so one counted at intake is not counted again); one over its cap ends as it
   * would have on its own.
   */
  private async capMates(mates: Message[], token: string): Promise<Message[]> {
    if (!mates.length) return [];
    const allowed = await this.cap.take(
      mates.map((m) => ({ messageId: m.id, recipient: m.recipient, category: m.category })),
    );
    const refused = mates.filter((_, i) => !allowed[i]);
    for (const mate of refused) {
      await this.lifecycle.transition(
        { id: mate.id, claimToken: token },
        {
          to: 'failed',
          source: 'worker',
          error: { code: RECIPIENT_RATE_LIMITED, message: capMessage(mate, this.config) },
        },
      );
    }
    return mates.filter((_, i) => allowed[i]);
  }

  /** Moves a message due inside its recipient's quiet hours to their end; true when it did. */
  private async deferIfQuiet(message: Message): Promise<boolean> {
    const window = this.config.protection.quietHours[message.category];
    if (window === null) return false;
    const timezone = message.timezone ?? this.config.protection.defaultTimezone;
    const until = quietUntil(new Date(), window, timezone);
    if (until === null) return false;
    const ref = await this.lifecycle.defer(message.id, until, {
      reason: 'quiet_hours',
      until: until.toISOString(),
      timezone,
    });
    if (ref) await this.dispatch.dispatchMany([ref]);
    return true;
  }

  /** Defers a message of a team whose hard-stop budget is used up; true when it did. */
  private async deferIfHeld(message: Message): Promise<boolean> {
    const held = await this.budgets.hold(message.team);
    if (!held) return false;
    const ref = await this.lifecycle.defer(message.id, held.until, held.details, {
      reschedule: false,
    });
    if (ref) await this.dispatch.dispatchMany([ref]);
    return true;
  }

  /** Ends an unsent message that recipient protection stops: never sent, no attempt. */
  private async refuse(message: Message, code: string, reason: string): Promise<void> {
    await this.lifecycle.transition(
      { id: message.id, from: UNSENT_STATUSES, unclaimed: true },
      { to: 'failed', source: 'worker', error: { code, message: reason } },
    );
  }

  /**
   * One provider request for the claimed messages: `to` a single number for one, an array for
   * several (they share the text, sender and category). A refusal that names one recipient of
   * several fails that one alone and sends the rest again; one that names none is split in halves
   * until it does, so every other recipient still goes.
   */
  private async attempt(batch: Message[], token: string): Promise<void> {
    const [leader] = batch;
    try {
      // Claimed first; the gateway then takes the slot and calls at once, so no database round
      // trip sits between the slot's time and the request reaching the provider. The slot may
      // take seconds: the lease is checked again right before the call.
      const result = await this.gateway.send(
        {
          to: batch.length === 1 ? leader.recipient : batch.map((m) => m.recipient),
          message: leader.body,
          from: leader.senderId ?? undefined,
        },
        {
          stillValid: () => this.lease.isHeld(),
          route: { category: leader.category, team: leader.team },
        },
      );
      await this.recordAccepted(batch, token, result.data, result.account);
    } catch (error) {
      if (error instanceof CallAbandonedError) {
        await this.handleProviderError(batch, token, error);
        return;
      }
      if (!(error instanceof SmsProviderError)) throw error;
      if (batch.length > 1 && error.code === 'invalid_phone_number') {
        await this.split(batch, token, error);
        return;
      }
      if (batch.length > 1 && error.code === 'insufficient_credits') {
        // No account could pay for them all at once: halves go while credits last, and a single
        // message refused is the account out of credits (the policy pauses sending).
        await this.inHalves(batch, token);
        return;
      }
      await this.handleProviderError(batch, token, error);
    }
  }

  /** A batch refused whole because of a recipient: that one fails alone, the others go. */
  private async split(batch: Message[], token: string, error: SmsProviderError): Promise<void> {
    const named = batch.find((m) => error.message.includes(`"${m.recipient}"`));
    if (named) {
      await this.fail([named], token, {
        code: error.providerCode ?? error.code,
        message: maskPhonesIn(error.message),
      });
      await this.attempt(
        batch.filter((m) => m !== named),
        token,
      );
      return;
    }
    await this.inHalves(batch, token);
  }

  /** The request again as two, one after the other, under the same claim. */
  private async inHalves(batch: Message[], token: string): Promise<void> {
    const half = Math.ceil(batch.length / 2);
    await this.attempt(batch.slice(0, half), token);
    await this.attempt(batch.slice(half), token);
  }

  private async recordAccepted(
    batch: Message[],
    token: string,
    data: { message_id: string; credits_used: number; credits_remaining: number },
    account: string,
  ): Promise<void> {
    const [leader] = batch;
    // The provider charges each recipient the text's segments: its credits_used is split evenly,
    // any remainder on the first.
    const total = typeof data.credits_used === 'number' ? data.credits_used : null;
    const share = total === null ? null : Math.floor(total / batch.length);
    const remainder = total === null || share === null ? 0 : total - share * batch.length;
    const groups = remainder ? [batch.slice(0, 1), batch.slice(1)] : [batch];
    let recorded = 0;
    for (const group of groups) {
      const credits = share === null ? null : share + (group[0] === leader ? remainder : 0);
      // The provider has the messages now: losing this write would mean sending them again
      // later, so it is retried for as long as the claim can be ours (a database outage of a
      // minute included).
      const { changed } = await this.untilWritten('recording an accepted send', () =>
        this.lifecycle.transition(
          { ids: group.map((m) => m.id), claimToken: token },
          {
            to: 'queued',
            source: 'worker',
            accepted: {
              providerMessageId: data.message_id,
              creditsUsed: credits,
              creditsRemaining: data.credits_remaining ?? null,
              account,
            },
            details: {
              provider_message_id: data.message_id,
              credits_used: credits,
              ...(batch.length > 1 ? { recipients_in_request: batch.length } : {}),
            },
            withAttempt: true,
          },
        ),
      );
      recorded += changed.length;
    }
    if (recorded < batch.length) {
      this.logger.error(
        `Provider accepted ${batch.length} message(s) as ${data.message_id} but ${batch.length - recorded} claim(s) were gone`,
      );
      if (!recorded) return;
    }
    this.logger.debug(
      `Provider accepted ${batch.length} message(s) from ${leader.id} as ${data.message_id}`,
    );
    // Counted once per accepted send; a lost addition under-counts the team, never the message.
    if (total !== null) {
      await this.budgets.recordUsed(leader.team, total).catch((error: unknown) => {
        this.logger.warn(`Counting team credits failed: ${String(error)}`);
      });
    }
    // For the webhooks to come: their spans link to this send's (tracing on only).
    await this.traceLinks.remember(data.message_id, leader.id).catch(() => undefined);
    // The provider may have reported on it before this commit: apply what was parked.
    // A failure here is mended by the reconciler's periodic adoption.
    await this.updates.adoptParked(data.message_id).catch((error: unknown) => {
      this.logger.warn(`Adopting parked events failed: ${String(error)}`);
    });
    for (const message of batch) {
      if (!message.scheduledAt) continue;
      this.metrics.scheduleLag.observe(
        Math.max(0, (Date.now() - message.scheduledAt.getTime()) / 1000),
      );
    }
  }

  /**
   * A write that settles a claim we hold, tried again while the database is unreachable: given
   * up, the message would stay claimed until SEND_CLAIM_TIMEOUT_MS, and an accepted send would be
   * sent again. Tries for half the claim timeout, backing off to 2 s; the lease keeps the claim
   * ours meanwhile (the reaper waits for a live owner to renew after an outage).
   */
  private async untilWritten<T>(what: string, write: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.config.sending.claimTimeoutMs / 2;
    for (let waitMs = 250, failed = false; ; waitMs = Math.min(waitMs * 2, 2000)) {
      try {
        const result = await write();
        if (failed) this.logger.log(`${what}: written after the database came back`);
        return result;
      } catch (error) {
        if (Date.now() + waitMs > deadline) throw error;
        if (!failed) this.logger.warn(`${what} failed, trying again: ${String(error)}`);
        failed = true;
        await sleep(waitMs);
      }
    }
  }

  /** What the error means for the messages is decided in provider-error-policy.ts. */
  private async handleProviderError(
    batch: Message[],
    token: string,
    error: SmsProviderError | CallAbandonedError,
  ): Promise<void> {
    const decision = decideProviderError(error, batch[0].attempts, this.config.sending);
    if (decision.kind === 'fail') {
      await this.fail(batch, token, { code: decision.code, message: decision.message });
      return;
    }
    if (decision.pauseForCredits) await this.pause.pause('insufficient_credits');
    await this.retry(
      batch,
      token,
      decision.delayMs,
      decision.countsAsAttempt,
      decision.event,
      decision.details,
    );
  }

  /** Ends claimed messages `failed` with the provider's code: an error about them, not the call. */
  private async fail(
    batch: Message[],
    token: string,
    error: { code: string; message: string },
  ): Promise<void> {
    const [message] = batch;
    this.logger.warn(
      `Message ${message.id} to ${maskPhone(message.recipient)}${batch.length > 1 ? ` and ${batch.length - 1} other(s)` : ''} failed: ${error.code} after ${message.attempts} attempt(s)`,
    );
    await this.untilWritten('recording a failed message', () =>
      this.lifecycle.transition(
        { ids: batch.map((m) => m.id), claimToken: token },
        {
          to: 'failed',
          source: 'worker',
          error,
          withAttempt: true,
        },
      ),
    );
  }

  private async retry(
    batch: Message[],
    token: string,
    delayMs: number,
    countsAsAttempt: boolean,
    type: string,
    details: Record<string, unknown>,
  ): Promise<void> {
    const refs = await this.untilWritten('giving a claim back', () =>
      this.lifecycle.releaseClaims(
        { ids: batch.map((m) => m.id), claimToken: token },
        { nextAttemptAt: new Date(Date.now() + delayMs), countsAsAttempt },
        { type, source: 'worker', details },
      ),
    );
    // If Redis refuses now, the sweeper finds the message due and without a job.
    await this.dispatch.dispatchMany(refs).catch((error: unknown) => {
      this.logger.warn(`Enqueue of a retry failed; the sweeper will plan it: ${String(error)}`);
    });
  }

  private async expire(message: Message): Promise<void> {
    await this.lifecycle.transition(
      { id: message.id, from: UNSENT_STATUSES, unclaimed: true },
      {
        to: 'expired',
        source: 'worker',
        error: { code: VALIDITY_ELAPSED, message: VALIDITY_ELAPSED_MESSAGE },
      },
    );
  }
}

function capMessage(message: Message, config: AppConfig): string {
  const cap = config.protection.caps[message.category];
  return cap
    ? `The recipient already had ${cap.limit} ${message.category} message(s) in the cap's window`
    : `The recipient is over its ${message.category} cap`;
}

function isExpired(message: Message): boolean {
  return message.expiresAt !== null && message.expiresAt.getTime() <= Date.now();
}
