import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { GroupCommit, isRowError } from '../common/group-commit';
import {
  MessageLifecycleRepository,
  type StoredNewMessage,
} from '../delivery-status/message-lifecycle.repository';
import { MetricsService } from '../metrics/metrics.service';
import { type NewNotification, NotificationsRepository } from './notifications.repository';

/** One accepted request: its notification and its messages, ids already chosen. */
export interface IntakeRecord {
  notification: NewNotification;
  messages: StoredNewMessage[];
}

/** Batches in flight at once: a few pool connections, the rest stay free for everything else. */
export const INTAKE_CONCURRENT_BATCHES = 4;
/** Messages per batch at most, so that one transaction stays short and its statements small. */
export const INTAKE_BATCH_MESSAGES = 5000;

/**
 * Stores accepted requests. Requests arriving together share one transaction of two statements
 * (all their notifications, then all their messages with their first events) instead of one
 * transaction of several statements each: see GroupCommit.
 */
@Injectable()
export class IntakeWriter {
  private readonly batches: GroupCommit<IntakeRecord, undefined>;

  constructor(
    private readonly notifications: NotificationsRepository,
    private readonly lifecycle: MessageLifecycleRepository,
    metrics: MetricsService,
  ) {
    this.batches = new GroupCommit({
      commit: async (records) => {
        await this.commit(records);
        return records.map(() => undefined);
      },
      concurrency: INTAKE_CONCURRENT_BATCHES,
      maxWeight: INTAKE_BATCH_MESSAGES,
      weight: (record) => record.messages.length,
      isItemError: isRowError,
      onBatch: (items) => metrics.batchItems.observe({ writer: 'intake' }, items),
    });
  }

  /** Resolves once `record` is committed; rejects with the database's error if it is not. */
  write(record: IntakeRecord): Promise<undefined> {
    return this.batches.submit(record);
  }

  /** Writes `records` in the caller's transaction: all notifications, then all messages. */
  async insert(manager: EntityManager, records: readonly IntakeRecord[]): Promise<void> {
    await this.notifications.insertNotifications(
      manager,
      records.map((r) => r.notification),
    );
    await this.lifecycle.insertNew(
      manager,
      records.flatMap((r) => r.messages),
    );
  }

  private async commit(records: readonly IntakeRecord[]): Promise<void> {
    await this.notifications.transaction((manager) => this.insert(manager, records));
  }
}
