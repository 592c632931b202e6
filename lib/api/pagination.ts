/**
 * Keyset pagination over (createdAt, id), newest first. The cursor is opaque to clients:
 * base64url of `[createdAt ISO, id]` of the last item of the previous page. Stable under inserts
 * (new rows land on page one) and O(limit) whatever the depth, unlike OFFSET.
 */
import { ApiError } from './errors';

export interface PageRequest {
  cursor?: string | undefined;
  limit: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

interface Keyed {
  createdAt: Date;
  id: string;
}

export function encodeCursor(row: Keyed): string {
  return Buffer.from(JSON.stringify([row.createdAt.toISOString(), row.id]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): Keyed {
  const invalid = new ApiError('invalid_cursor', 400, 'invalid cursor: pass the `nextCursor` of a previous page unchanged');
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[0] !== 'string' || typeof parsed[1] !== 'string') throw invalid;
  const createdAt = new Date(parsed[0]);
  if (Number.isNaN(createdAt.getTime()) || parsed[1].length === 0 || parsed[1].length > 64) throw invalid;
  return { createdAt, id: parsed[1] };
}

/** Prisma `where`/`orderBy`/`take` for one page; merge `where` with the caller's filter using AND. */
export function keysetArgs(page: PageRequest) {
  const after = page.cursor ? decodeCursor(page.cursor) : null;
  return {
    where: after ? { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] } : {},
    orderBy: [{ createdAt: 'desc' as const }, { id: 'desc' as const }],
    // One extra row tells whether there is a next page.
    take: page.limit + 1,
  };
}

/** Cuts the extra row of `keysetArgs` off and derives the next cursor. */
export function toPage<R extends Keyed, T>(rows: R[], page: PageRequest, map: (row: R) => T): Page<T> {
  const hasMore = rows.length > page.limit;
  const pageRows = hasMore ? rows.slice(0, page.limit) : rows;
  const last = pageRows.at(-1);
  return { items: pageRows.map(map), nextCursor: hasMore && last ? encodeCursor(last) : null };
}
