import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { ParkedPayload } from './provider-status';

export interface ParkedEvent {
  id: string;
  payload: unknown;
}

/**
 * Provider events for a provider id we have not recorded yet (the provider's webhook beat our
 * commit of its answer): kept until the message appears, then applied. Only the parsed, bounded
 * fields of an event are kept (toParkedPayload), and ParkingGate caps how many and how fast.
 * Rows parked before that rule may still hold a whole payload: parseProviderUpdate reads both.
 */
@Injectable()
export class ParkedEventsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async park(event: ParkedPayload): Promise<void> {
    await this.db.query(
      `INSERT INTO pending_provider_events (provider_message_id, payload) VALUES ($1, $2::jsonb)`,
      [event.message_id, JSON.stringify(event)],
    );
  }

  async count(): Promise<number> {
    const rows: { n: number }[] = await this.db.query(
      `SELECT count(*)::int AS n FROM pending_provider_events`,
    );
    return rows[0].n;
  }

  /** Parked events whose message has since got its provider id, oldest first. */
  findAdoptable(limit: number): Promise<ParkedEvent[]> {
    return this.db.query(
      `SELECT p.id, p.payload FROM pending_provider_events p
       WHERE EXISTS (SELECT 1 FROM messages m WHERE m.provider_message_id = p.provider_message_id)
       ORDER BY p.id LIMIT $1`,
      [limit],
    );
  }

  findParkedFor(providerMessageId: string): Promise<ParkedEvent[]> {
    return this.db.query(
      `SELECT id, payload FROM pending_provider_events WHERE provider_message_id = $1 ORDER BY id`,
      [providerMessageId],
    );
  }

  async deleteParked(ids: string[]): Promise<void> {
    if (ids.length) {
      await this.db.query(`DELETE FROM pending_provider_events WHERE id = ANY($1::bigint[])`, [
        ids,
      ]);
    }
  }

  /** Events for ids we never learn (another system on the same provider account) don't pile up. */
  async pruneParked(olderThan: Date): Promise<number> {
    const rows: { n: number }[] = await this.db.query(
      `WITH gone AS (DELETE FROM pending_provider_events WHERE received_at < $1 RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [olderThan],
    );
    return rows[0].n;
  }
}
