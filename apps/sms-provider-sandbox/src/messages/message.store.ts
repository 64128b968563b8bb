import { Injectable } from '@nestjs/common';
import type { SandboxMessage } from './message';

/** In-memory message repository: the sandbox forgets everything on restart or reset. */
@Injectable()
export class MessageStore {
  private readonly messages = new Map<string, SandboxMessage>();

  save(message: SandboxMessage): void {
    this.messages.set(message.id, message);
  }

  find(id: string): SandboxMessage | undefined {
    return this.messages.get(id);
  }

  /** In creation order (Map keeps insertion order). */
  all(): SandboxMessage[] {
    return [...this.messages.values()];
  }

  clear(): void {
    this.messages.clear();
  }
}
