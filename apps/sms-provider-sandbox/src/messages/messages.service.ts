import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { SendMessageResponse } from '@app/sms-provider';
import { SANDBOX_CONFIG, type SandboxConfig } from '../config';
import type { Account } from '../accounts/account';
import { AccountsService } from '../accounts/accounts.service';
import { Clock } from '../common/clock';
import { maskPhone } from '../common/mask-phone';
import { SandboxError } from '../common/sandbox-error';
import { SandboxLogger } from '../common/sandbox-logger';
import type { SandboxMessage } from './message';
import { MessageLifecycleService } from './message-lifecycle.service';
import { toMessageResponse, type MessageResponse } from './message.mapper';
import { MessageStore } from './message.store';
import { outcomeFor } from './outcomes';
import { parseSendMessage } from './send-message.dto';

@Injectable()
export class MessagesService {
  constructor(
    @Inject(SANDBOX_CONFIG) private readonly config: SandboxConfig,
    private readonly accounts: AccountsService,
    private readonly store: MessageStore,
    private readonly lifecycle: MessageLifecycleService,
    private readonly clock: Clock,
    private readonly logger: SandboxLogger,
  ) {}

  /**
   * One message id per request, whatever the number of recipients. All or nothing: any invalid
   * recipient or a short balance refuses the whole request and debits nothing.
   */
  send(account: Account, body: unknown): SendMessageResponse {
    const command = parseSendMessage(body);
    const refused = command.to.find((to) => outcomeFor(to) === 'refused');
    if (refused !== undefined) {
      throw new SandboxError(
        HttpStatus.BAD_REQUEST,
        'invalid_phone_number',
        `Phone number "${refused}" cannot receive messages`,
      );
    }
    const creditsUsed = command.analysis.segments * command.to.length;
    this.accounts.debit(account, creditsUsed);

    const id = `msg_${randomBytes(8).toString('hex')}`;
    const createdAt = this.clock.now();
    const messages = command.to.map((to): SandboxMessage => ({
      id,
      batch: command.batch,
      accountKey: account.key,
      to,
      from: command.from ?? this.config.defaultSender,
      text: command.text,
      encoding: command.analysis.encoding,
      segments: command.analysis.segments,
      callbackUrl: command.callbackUrl,
      outcome: outcomeFor(to),
      createdAt,
      scheduledAt: command.scheduledAt,
      status: 'queued',
      sentAt: null,
      deliveredAt: null,
      finishedAt: null,
      error: null,
    }));
    this.store.save(messages);
    for (const message of messages) this.lifecycle.start(message);
    this.logger.debug(
      command.batch
        ? `Queued ${id} for ${messages.length} recipient(s) (${command.analysis.segments} segment(s) each)`
        : `Queued ${id} for ${maskPhone(command.to[0])} (${command.analysis.segments} segment(s))`,
      MessagesService.name,
    );

    const response: SendMessageResponse = {
      success: true,
      message_id: id,
      credits_used: creditsUsed,
      credits_remaining: account.credits,
      status: 'queued',
    };
    if (command.batch) response.recipients = messages.map((m) => ({ to: m.to, status: m.status }));
    return response;
  }

  /** Another account's message is as unknown as a made-up id. */
  get(account: Account, id: string): MessageResponse {
    const messages = this.store.find(id);
    if (!messages || messages[0].accountKey !== account.key) {
      throw new SandboxError(
        HttpStatus.NOT_FOUND,
        'message_not_found',
        `No message with id "${id}"`,
      );
    }
    return toMessageResponse(messages);
  }
}
