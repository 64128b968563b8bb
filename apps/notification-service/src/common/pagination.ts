import { UnprocessableError } from './errors/api-error';

/** One page of a keyset-paginated list, as every list route answers it. */
export interface Page<T> {
  data: T[];
  /** Pass as `cursor` for the next page; null on the last one. */
  next_cursor: string | null;
}

/** A sort position: the values that order a row, last row of a page first to last. */
export type CursorPosition = readonly (string | number)[];

/** The notifications list and the message search: 50 rows unless asked, 200 at most. */
export const LIST_LIMITS = { fallback: 50, max: 200 } as const;

/**
 * The `limit` of a list request, checked before any query: `fallback` when absent, 422
 * `invalid_limit` outside 1..`max`. The DTO has already refused anything but 1–3 digits.
 */
export function pageLimit(raw: string | undefined, bounds: { fallback: number; max: number }) {
  const limit = raw === undefined ? bounds.fallback : Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > bounds.max) {
    throw new UnprocessableError('invalid_limit', `limit must be between 1 and ${bounds.max}`, {
      max: bounds.max,
    });
  }
  return limit;
}

/** The opaque cursor of a sort position. */
export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/**
 * The position a cursor holds, as `read` accepts it (null: not a position of this list). A cursor
 * this API did not make is 422 `invalid_cursor`, never a query with odd values.
 */
export function decodeCursor<T>(cursor: string, read: (position: unknown[]) => T | null): T {
  let position: unknown;
  try {
    position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    position = null;
  }
  const accepted = Array.isArray(position) ? read(position) : null;
  if (accepted === null) {
    throw new UnprocessableError('invalid_cursor', 'cursor is not one this API returned');
  }
  return accepted;
}

/**
 * The page of `rows`, which were fetched with `limit + 1` so that one more row tells whether
 * there is a next page; its cursor is the position of the page's last row.
 */
export function toPage<R, T>(
  rows: readonly R[],
  limit: number,
  positionOf: (row: R) => CursorPosition,
  view: (row: R) => T,
): Page<T> {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    data: page.map(view),
    next_cursor: rows.length > limit && last !== undefined ? encodeCursor(positionOf(last)) : null,
  };
}
