import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { SuppressionScope } from '../common/message-category';
import type { ExportRow, ImportRow } from './suppression-csv';

/** An entry as stored, its instants as UTC text (position_at keeps the microseconds). */
export interface SuppressionRow {
  id: string;
  recipient: string;
  scope: SuppressionScope;
  reason: string | null;
  source: string | null;
  created_at: string;
  position_at: string;
  created_by_key: string | null;
  created_by_team: string | null;
  removed_at: string | null;
  removed_by_key: string | null;
  removed_by_team: string | null;
  removal_reason: string | null;
}

/** Where a keyset page starts: after (or before) this entry. */
export interface SuppressionPosition {
  at: string;
  id: string;
}

export interface ListFilter {
  to?: string;
  scope?: SuppressionScope;
  includeRemoved: boolean;
  after?: SuppressionPosition;
  limit: number;
}

/** Who acts on the list: the key (null for the environment's admin key) and its team. */
export interface Actor {
  key: string | null;
  team: string;
}

const MS = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const US = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;
const utc = (column: string, format: string) => `to_char(${column} AT TIME ZONE 'UTC', ${format})`;

const COLUMNS = `id, recipient, scope, reason, source,
  ${utc('created_at', MS)} AS created_at, ${utc('created_at', US)} AS position_at,
  created_by_key, created_by_team, ${utc('removed_at', MS)} AS removed_at,
  removed_by_key, removed_by_team, removal_reason`;

/** Rows per statement of an import: three arrays of this length bind as three parameters. */
const IMPORT_CHUNK = 10_000;

/** The live entries `ON CONFLICT` meets: the unique partial index of the migration. */
const LIVE_CONFLICT = `ON CONFLICT (recipient, scope) WHERE removed_at IS NULL DO NOTHING`;

@Injectable()
export class SuppressionsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Adds the entry unless a live one for the number and scope exists: then that one, with
   * `created` false. Two concurrent adds meet in the unique index; the loser waits for the
   * winner's commit, inserts nothing and reads the winner's entry.
   */
  async add(
    entry: { to: string; scope: SuppressionScope; reason: string | null; source: string | null },
    actor: Actor,
  ): Promise<{ created: boolean; row: SuppressionRow }> {
    // A removal between the insert and the read would leave nothing to read: try once more.
    for (let attempt = 0; attempt < 3; attempt++) {
      const inserted: SuppressionRow[] = await this.db.query(
        `INSERT INTO suppressions (recipient, scope, reason, source, created_by_key, created_by_team)
         VALUES ($1, $2, $3, $4, $5, $6) ${LIVE_CONFLICT} RETURNING ${COLUMNS}`,
        [entry.to, entry.scope, entry.reason, entry.source, actor.key, actor.team],
      );
      if (inserted[0]) return { created: true, row: inserted[0] };
      const [live] = await this.list({
        to: entry.to,
        scope: entry.scope,
        includeRemoved: false,
        limit: 1,
      });
      if (live) return { created: false, row: live };
    }
    throw new Error('The suppression entry changed under three attempts to add it');
  }

  /** Newest first, `limit` rows after `after`. */
  list(filter: ListFilter): Promise<SuppressionRow[]> {
    return this.db.query(
      `SELECT ${COLUMNS} FROM suppressions
       WHERE ($1::text IS NULL OR recipient = $1)
         AND ($2::text IS NULL OR scope = $2)
         AND ($3::boolean OR removed_at IS NULL)
         AND ($4::timestamptz IS NULL OR (created_at, id) < ($4::timestamptz, $5::uuid))
       ORDER BY created_at DESC, id DESC
       LIMIT $6`,
      [
        filter.to ?? null,
        filter.scope ?? null,
        filter.includeRemoved,
        filter.after?.at ?? null,
        filter.after?.id ?? null,
        filter.limit,
      ],
    );
  }

  /** Marks the live entries of the number (of one scope, or both) removed; how many there were. */
  async remove(
    to: string,
    scope: SuppressionScope | undefined,
    reason: string | null,
    actor: Actor,
  ): Promise<number> {
    // Counted in SQL: TypeORM answers an UPDATE with [rows, count], not the rows alone.
    const [{ n }]: { n: number }[] = await this.db.query(
      `WITH removed AS (
         UPDATE suppressions
         SET removed_at = now(), removed_by_key = $3, removed_by_team = $4, removal_reason = $5
         WHERE recipient = $1 AND removed_at IS NULL AND ($2::text IS NULL OR scope = $2)
         RETURNING 1)
       SELECT count(*)::int AS n FROM removed`,
      [to, scope ?? null, actor.key, actor.team, reason],
    );
    return n;
  }

  /**
   * Adds every row in one transaction (all or nothing), a chunk per statement; rows whose number
   * and scope are live already, or repeated in `rows`, are skipped. A row without its own source
   * gets `source`. Returns how many were added.
   */
  importAll(rows: readonly ImportRow[], source: string, actor: Actor): Promise<number> {
    return this.db.transaction(async (manager) => {
      let imported = 0;
      for (let start = 0; start < rows.length; start += IMPORT_CHUNK) {
        const chunk = rows.slice(start, start + IMPORT_CHUNK);
        const [{ n }]: { n: number }[] = await manager.query(
          `WITH added AS (
             INSERT INTO suppressions
               (recipient, scope, reason, source, created_by_key, created_by_team)
             SELECT r.recipient, r.scope, r.reason, coalesce(r.source, $5), $6, $7
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
               AS r(recipient, scope, reason, source)
             ${LIVE_CONFLICT}
             RETURNING 1)
           SELECT count(*)::int AS n FROM added`,
          [
            chunk.map((r) => r.to),
            chunk.map((r) => r.scope),
            chunk.map((r) => r.reason),
            chunk.map((r) => r.source),
            source,
            actor.key,
            actor.team,
          ],
        );
        imported += n;
      }
      return imported;
    });
  }

  /** One page of the export: live entries oldest first, after `after`. */
  exportPage(
    after: SuppressionPosition | undefined,
    limit: number,
  ): Promise<(ExportRow & { id: string; position_at: string })[]> {
    return this.db.query(
      `SELECT id, recipient AS "to", scope, reason, source,
         ${utc('created_at', MS)} AS created_at, ${utc('created_at', US)} AS position_at
       FROM suppressions
       WHERE removed_at IS NULL
         AND ($1::timestamptz IS NULL OR (created_at, id) > ($1::timestamptz, $2::uuid))
       ORDER BY created_at, id
       LIMIT $3`,
      [after?.at ?? null, after?.id ?? null, limit],
    );
  }
}
