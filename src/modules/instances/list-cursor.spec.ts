import { AppError } from '../../common/errors';
import { decodeCursor, encodeCursor } from './list-cursor';

describe('list cursor', () => {
  it('round-trips the position and the order', () => {
    const cursor = encodeCursor({ score: 1767225600123, id: 'inst_0123456789abcdef0123' }, 'asc');
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual({
      position: { score: 1767225600123, id: 'inst_0123456789abcdef0123' },
      order: 'asc',
    });
  });

  it.each([
    ['not base64 JSON', 'not-a-cursor'],
    ['JSON that is not an object', Buffer.from('42').toString('base64url')],
    ['a score that is not a number', Buffer.from('{"s":"1","i":"a","o":"desc"}').toString('base64url')],
    ['an empty id', Buffer.from('{"s":1,"i":"","o":"desc"}').toString('base64url')],
    ['an unknown order', Buffer.from('{"s":1,"i":"a","o":"up"}').toString('base64url')],
    ['null', Buffer.from('null').toString('base64url')],
  ])('rejects %s with a validation error naming the cursor field', (_, cursor) => {
    expect.assertions(2);
    try {
      decodeCursor(cursor);
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ code: 'VALIDATION_ERROR', details: { fields: [{ field: 'cursor' }] } });
    }
  });
});
