import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { IdempotencyRecord } from './entities/idempotency-record.entity';
import { Notification } from './entities/notification.entity';

export type NewNotification = Omit<Notification, 'createdAt' | 'messages' | 'test'> & {
  /** A template's test send (false when left out). */
  test?: boolean;
};

export interface ListFilter {
  team: string | null;
  status?: string;
  template?: string;
  reference?: string;
  since?: Date;
  until?: Date;
  after?: { createdAt: Date; id: string };
  limit: number;
}

@Injectable()
export class NotificationsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /** Waits at most this long for a concurrent request holding the same idempotency key. */
  async setLockTimeout(manager: EntityManager, ms: number): Promise<void> {
    await manager.query(`SET LOCAL lock_timeout = '${Math.floor(ms)}ms'`);
  }

  async deleteExpiredIdempotency(manager: EntityManager, team: string, key: string): Promise<void> {
    await manager.query(
      `DELETE FROM idempotency_records WHERE team = $1 AND key = $2 AND expires_at <= now()`,
      [team, key],
    );
  }

  /** Inserting the key is the lock: a concurrent duplicate blocks here until we commit. */
  async insertIdempotency(
    manager: EntityManager,
    record: Pick<IdempotencyRecord, 'team' | 'key' | 'requestHash' | 'expiresAt'>,
  ): Promise<IdempotencyRecord> {
    return manager.save(manager.create(IdempotencyRecord, { ...record, response: null }));
  }

  async completeIdempotency(
    manager: EntityManager,
    id: string,
    notificationId: string,
    response: Record<string, unknown>,
  ): Promise<void> {
    await manager.query(
      `UPDATE idempotency_records SET notification_id = $2, response = $3::jsonb WHERE id = $1`,
      [id, notificationId, JSON.stringify(response)],
    );
  }

  findIdempotency(team: string, key: string): Promise<IdempotencyRecord | null> {
    return this.db.getRepository(IdempotencyRecord).findOne({ where: { team, key } });
  }

  async purgeExpiredIdempotency(): Promise<number> {
    const rows: { n: number }[] = await this.db.query(
      `WITH gone AS (DELETE FROM idempotency_records WHERE expires_at <= now() RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
    );
    return rows[0].n;
  }

  /**
   * Notification rows with the ids their callers gave them, one statement for any count; their
   * messages are stored by the lifecycle in the same transaction.
   */
  async insertNotifications(
    manager: EntityManager,
    rows: readonly NewNotification[],
  ): Promise<void> {
    if (rows.length === 0) return;
    const column = <K extends keyof NewNotification>(key: K) => rows.map((r) => r[key]);
    await manager.query(
      `INSERT INTO notifications (id, team, api_key_id, template_key, template_version, sender_id,
         priority, scheduled_at, expires_at, callback_url, reference, recipient_count, test)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::int[], $6::text[],
         $7::text[], $8::timestamptz[], $9::timestamptz[], $10::text[], $11::text[], $12::int[],
         $13::boolean[])`,
      [
        column('id'),
        column('team'),
        column('apiKeyId'),
        column('templateKey'),
        column('templateVersion'),
        column('senderId'),
        column('priority'),
        column('scheduledAt'),
        column('expiresAt'),
        column('callbackUrl'),
        column('reference'),
        column('recipientCount'),
        rows.map((r) => r.test ?? false),
      ],
    );
  }

  findNotification(id: string): Promise<Notification | null> {
    return this.db.getRepository(Notification).findOne({ where: { id } });
  }

  /**
   * Keyset pagination on (created_at, id) descending: stable under concurrent inserts and no
   * OFFSET scans, whatever the page.
   */
  async list(filter: ListFilter): Promise<Notification[]> {
    const qb = this.db.getRepository(Notification).createQueryBuilder('n');
    if (filter.team) qb.andWhere('n.team = :team', { team: filter.team });
    if (filter.template) qb.andWhere('n.templateKey = :template', { template: filter.template });
    if (filter.reference) qb.andWhere('n.reference = :reference', { reference: filter.reference });
    if (filter.since) qb.andWhere('n.createdAt >= :since', { since: filter.since });
    if (filter.until) qb.andWhere('n.createdAt < :until', { until: filter.until });
    if (filter.status) {
      qb.andWhere(
        'EXISTS (SELECT 1 FROM messages m WHERE m.notification_id = n.id AND m.status = :status)',
        { status: filter.status },
      );
    }
    if (filter.after) {
      qb.andWhere('(n.createdAt, n.id) < (:afterAt, :afterId)', {
        afterAt: filter.after.createdAt,
        afterId: filter.after.id,
      });
    }
    return qb
      .orderBy('n.createdAt', 'DESC')
      .addOrderBy('n.id', 'DESC')
      .take(filter.limit)
      .getMany();
  }
}
