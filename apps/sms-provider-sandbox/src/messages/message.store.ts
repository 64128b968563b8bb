import { Injectable } from '@nestjs/common';
import type { SandboxMessage } from './message';

/**
 * In-memory message repository: the sandbox forgets everything on restart or reset. Keyed by the
 * send's id; a send to an array holds its recipients' messages under that one id.
 */
@Injectable()
export class MessageStore {
  private readonly sends = new Map<string, readonly SandboxMessage[]>();

  /** One send's messages, in recipient order. */
  save(messages: readonly SandboxMessage[]): void {
    this.sends.set(messages[0].id, messages);
  }

  find(id: string): readonly SandboxMessage[] | undefined {
    return this.sends.get(id);
  }

  /** One entry per recipient, sends in creation order (Map keeps insertion order). */
  all(): SandboxMessage[] {
    return [...this.sends.values()].flat();
  }

  clear(): void {
    this.sends.clear();
  }
}
