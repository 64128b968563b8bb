import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { SuppressionScope } from '../common/message-category';

/**
 * Which numbers the suppression list stops, as intake asks it: one query for all the recipients
 * of a request, through the index on live entries. (The send path asks the same of one message
 * inside its claim: message-lifecycle.repository.ts.)
 */
@Injectable()
export class SuppressionLookupRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The live scopes of each of `recipients` that has any. */
  async activeScopes(recipients: readonly string[]): Promise<Map<string, Set<SuppressionScope>>> {
    const scopes = new Map<string, Set<SuppressionScope>>();
    if (recipients.length === 0) return scopes;
    const rows: { recipient: string; scope: SuppressionScope }[] = await this.db.query(
      `SELECT recipient, scope FROM suppressions
       WHERE recipient = ANY($1::text[]) AND removed_at IS NULL`,
      [recipients],
    );
    for (const { recipient, scope } of rows) {
      const set = scopes.get(recipient) ?? new Set<SuppressionScope>();
      set.add(scope);
      scopes.set(recipient, set);
    }
    return scopes;
  }
}
