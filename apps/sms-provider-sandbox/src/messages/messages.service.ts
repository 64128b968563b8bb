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

  /** All or nothing: any invalid recipient or a short balance refuses the whole request. */
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

    const createdAt = this.clock.now();
    const messages = command.to.map((to): SandboxMessage => ({
      id: `msg_${randomBytes(8).toString('hex')}`,
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
    for (const message of messages) {
      this.store.save(message);
      this.lifecycle.start(message);
      this.logger.debug(
        `Queued ${message.id} for ${maskPhone(message.to)} (${message.segments} segment(s))`,
        MessagesService.name,
      );
    }

    const response: SendMessageResponse = {
      success: true,
      message_id: messages[0].id,
      credits_used: creditsUsed,
      credits_remaining: account.credits,
      status: 'queued',
    };
    if (command.batch) {
      response.messages = messages.map((m) => ({ message_id: m.id, to: m.to, status: m.status }));
    }
    return response;
  }

  /** Another account's message is as unknown as a made-up id. */
  get(account: Account, id: string): MessageResponse {
    const message = this.store.find(id);
    if (!message || message.accountKey !== account.key) {
      throw new SandboxError(
        HttpStatus.NOT_FOUND,
        'message_not_found',
        `No message with id "${id}"`,
      );
    }
    return toMessageResponse(message);
  }
}
