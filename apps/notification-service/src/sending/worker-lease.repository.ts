import { hostname } from 'node:os';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

/** Rows of `worker_leases`: one per live sending process, kept alive by its heartbeat. */
@Injectable()
export class WorkerLeaseRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Takes or extends the lease until `ttlMs` from now by the database's clock. */
  async renew(id: string, ttlMs: number): Promise<void> {
    await this.db.query(
      `INSERT INTO worker_leases (id, host, pid, expires_at)
       VALUES ($1, $2, $3, now() + make_interval(secs => $4::double precision / 1000))
       ON CONFLICT (id) DO UPDATE SET expires_at = EXCLUDED.expires_at`,
      [id, hostname(), process.pid, ttlMs],
    );
  }

  async drop(id: string): Promise<void> {
    await this.db.query(`DELETE FROM worker_leases WHERE id = $1`, [id]);
  }

  /** Leases lapsed long ago whose claims have all been released: history nobody reads. */
  async pruneLapsed(olderThan: Date): Promise<void> {
    await this.db.query(
      `DELETE FROM worker_leases l WHERE l.expires_at < $1
         AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.claim_owner = l.id AND m.claimed_at IS NOT NULL)`,
      [olderThan],
    );
  }
}
