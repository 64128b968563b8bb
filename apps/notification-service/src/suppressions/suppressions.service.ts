import { Readable } from 'node:stream';
import { isE164 } from '@app/sms-provider/helpers';
import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/scopes';
import { NotFoundError, UnprocessableError } from '../common/errors/api-error';
import { decodeCursor, LIST_LIMITS, pageLimit, toPage } from '../common/pagination';
import { maskPhone } from '../logging/mask';
import {
  exportHeader,
  exportLines,
  MAX_IMPORT_ROWS,
  MAX_LISTED_PROBLEMS,
  parseImport,
} from './suppression-csv';
import type {
  CreateSuppressionDto,
  ImportResult,
  ListSuppressionsQuery,
  RemoveSuppressionQuery,
  Suppression,
  SuppressionPage,
} from './suppressions.dto';
import {
  type Actor,
  type SuppressionPosition,
  type SuppressionRow,
  SuppressionsRepository,
} from './suppressions.repository';

/** Rows the export reads per query: memory stays bounded whatever the list's size. */
const EXPORT_PAGE = 5_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function actorOf(principal: Principal): Actor {
  return { key: principal.keyId, team: principal.team };
}

/** Strict E.164, as intake checks a recipient (`checkRecipients`): stored numbers compare exactly. */
function checkNumber(to: string): string {
  if (!isE164(to)) {
    throw new UnprocessableError(
      'invalid_phone_number',
      'to is not a valid phone number in E.164 (+14155550100)',
    );
  }
  return to;
}

function view(row: SuppressionRow, masked: boolean): Suppression {
  return {
    id: row.id,
    to: masked ? maskPhone(row.recipient) : row.recipient,
    scope: row.scope,
    reason: row.reason,
    source: row.source,
    created_at: row.created_at,
    created_by_key: row.created_by_key,
    created_by_team: row.created_by_team,
    removed_at: row.removed_at,
    removed_by_key: row.removed_by_key,
    removed_by_team: row.removed_by_team,
    removal_reason: row.removal_reason,
  };
}

function readCursor(cursor: string): SuppressionPosition {
  return decodeCursor(cursor, ([at, id, ...rest]) =>
    typeof at === 'string' && INSTANT.test(at) && typeof id === 'string' && UUID.test(id)
      ? rest.length === 0
        ? { at, id }
        : null
      : null,
  );
}

/**
 * The company-wide suppression list: any key with the scope reads or changes it, whatever its
 * team (a person opts out of the company, not of one team), and every change keeps who made it.
 */
@Injectable()
export class SuppressionsService {
  constructor(private readonly repository: SuppressionsRepository) {}

  async add(
    principal: Principal,
    dto: CreateSuppressionDto,
  ): Promise<{ created: boolean; entry: Suppression }> {
    const { created, row } = await this.repository.add(
      {
        to: checkNumber(dto.to),
        scope: dto.scope,
        reason: dto.reason ?? null,
        source: dto.source ?? null,
      },
      actorOf(principal),
    );
    return { created, entry: view(row, false) };
  }

  /** Newest first; numbers masked, but for an exact lookup, whose caller knows the number. */
  async list(query: ListSuppressionsQuery): Promise<SuppressionPage> {
    const to = query.to === undefined ? undefined : checkNumber(query.to);
    const limit = pageLimit(query.limit, LIST_LIMITS);
    const rows = await this.repository.list({
      to,
      scope: query.scope,
      includeRemoved: query.include_removed === 'true',
      after: query.cursor === undefined ? undefined : readCursor(query.cursor),
      limit: limit + 1,
    });
    return toPage(
      rows,
      limit,
      (row) => [row.position_at, row.id],
      (row) => view(row, to === undefined),
    );
  }

  async remove(principal: Principal, to: string, query: RemoveSuppressionQuery): Promise<void> {
    const removed = await this.repository.remove(
      checkNumber(to),
      query.scope,
      query.reason ?? null,
      actorOf(principal),
    );
    if (removed === 0) {
      throw new NotFoundError(
        'suppression_not_found',
        `No live suppression of this number${query.scope ? ` with scope ${query.scope}` : ''}`,
      );
    }
  }

  /** All rows or none: a file with any bad line is refused whole, each problem with its line. */
  async import(principal: Principal, csv: string, source: string): Promise<ImportResult> {
    const parsed = parseImport(csv);
    if (!parsed.ok && parsed.tooManyRows) {
      throw new UnprocessableError(
        'too_many_rows',
        `An import has at most ${MAX_IMPORT_ROWS.toLocaleString('en-US')} rows; split the file`,
        { max_rows: MAX_IMPORT_ROWS },
      );
    }
    if (!parsed.ok) {
      const first = parsed.problems[0];
      throw new UnprocessableError(
        'invalid_csv',
        `The file has ${parsed.problemCount} problem(s), nothing was imported; ` +
          `line ${first.line}: ${first.problem}`,
        {
          problems: parsed.problems,
          problem_count: parsed.problemCount,
          listed: Math.min(parsed.problemCount, MAX_LISTED_PROBLEMS),
        },
      );
    }
    const imported = await this.repository.importAll(parsed.rows, source, actorOf(principal));
    return { imported, skipped: parsed.rows.length - imported };
  }

  /** The live entries as CSV, read a page at a time while the answer is written. */
  export(): Readable {
    const repository = this.repository;
    async function* lines(): AsyncGenerator<string> {
      yield exportHeader();
      let after: SuppressionPosition | undefined;
      for (;;) {
        const rows = await repository.exportPage(after, EXPORT_PAGE);
        if (rows.length > 0) yield exportLines(rows);
        if (rows.length < EXPORT_PAGE) return;
        const last = rows[rows.length - 1];
        after = { at: last.position_at, id: last.id };
      }
    }
    return Readable.from(lines());
  }
}
