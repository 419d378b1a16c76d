import { AppError, ErrorCode } from '../../common/errors';
import { IndexPosition } from '../records/instance-index';

export type ListOrder = 'asc' | 'desc';

interface CursorBody {
  /** Creation time (ms) of the last instance of the page. */
  s: number;
  /** Its id: orders instances created in the same millisecond. */
  i: string;
  /** The order the cursor was issued for. */
  o: ListOrder;
}

/**
 * A list cursor names the last instance of a page (creation time and id), not a position: pages
 * after it stay the same when instances are created or deleted elsewhere in the list. Opaque to
 * clients (base64url JSON), so its content can change without breaking them.
 */
export function encodeCursor(position: IndexPosition, order: ListOrder): string {
  const body: CursorBody = { s: position.score, i: position.id, o: order };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

export function decodeCursor(cursor: string): { position: IndexPosition; order: ListOrder } {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    body = null;
  }
  const b = body as Partial<CursorBody> | null;
  if (
    !b ||
    typeof b !== 'object' ||
    typeof b.s !== 'number' ||
    !Number.isFinite(b.s) ||
    typeof b.i !== 'string' ||
    b.i.length === 0 ||
    (b.o !== 'asc' && b.o !== 'desc')
  ) {
    throw invalidCursor('cursor is not one this API issued: pass nextCursor unchanged');
  }
  return { position: { score: b.s, id: b.i }, order: b.o };
}

export function invalidCursor(message: string): AppError {
  return new AppError(ErrorCode.VALIDATION_ERROR, message, {
    fields: [{ field: 'cursor', messages: [message] }],
  });
}
