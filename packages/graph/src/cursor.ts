import { AppError } from '@maestro/domain';

/**
 * Opaque keyset cursors: the sort key of the last row seen, never an offset, so a page deep
 * in a large result costs the same as the first (no SKIP). Cursors are base64url JSON with a
 * kind tag; anything else is a VALIDATION error on `after`.
 */
export interface CursorKey {
  /** Sort value (ISO date-time, a name or a sequence number). */
  s: string | number;
  /** Tie-breaker: the row id. */
  id: string;
}

export function encodeCursor(kind: string, key: CursorKey): string {
  return Buffer.from(JSON.stringify({ k: kind, s: key.s, id: key.id }), 'utf8').toString('base64url');
}

export function decodeCursor(kind: string, cursor: string | null | undefined): CursorKey | null {
  if (cursor === null || cursor === undefined || cursor === '') return null;
  const invalid = () => new AppError('VALIDATION', 'invalid cursor', { field: ['after'] });
  if (cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const c = parsed as { k?: unknown; s?: unknown; id?: unknown };
  if (
    c === null ||
    typeof c !== 'object' ||
    c.k !== kind ||
    typeof c.id !== 'string' ||
    (typeof c.s !== 'string' && typeof c.s !== 'number')
  ) {
    throw invalid();
  }
  return { s: c.s, id: c.id };
}

/** Page sizes: at least 1, at most 100 (the API's limit); default 20. */
export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return 20;
  if (!Number.isInteger(first) || first < 1 || first > 100) {
    throw new AppError('VALIDATION', '`first` must be an integer from 1 to 100', { field: ['first'] });
  }
  return first;
}

export interface Page<T> {
  items: Array<{ cursor: string; node: T }>;
  hasNextPage: boolean;
  endCursor: string | null;
}

/** Builds a page from `size + 1` fetched rows (the extra row only tells whether more exist). */
export function toPage<T>(kind: string, rows: T[], size: number, key: (row: T) => CursorKey): Page<T> {
  const items = rows.slice(0, size).map((node) => ({ cursor: encodeCursor(kind, key(node)), node }));
  return { items, hasNextPage: rows.length > size, endCursor: items.at(-1)?.cursor ?? null };
}
