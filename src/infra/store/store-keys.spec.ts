import { ErrorCode } from '../../common/errors';
import { toStoreError } from './store-errors';
import { escapeGlob, formatScoreBound, parseScore, StoreKeys } from './store-keys';

describe(StoreKeys.name, () => {
  it('should namespace keys under "<prefix>:" without doubling a trailing colon', () => {
    expect(new StoreKeys('novita_api').data('instance:1')).toBe('novita_api:instance:1');
    expect(new StoreKeys('app:').data('x')).toBe('app:x');
    expect(new StoreKeys('').data('x')).toBe('x');
  });

  it('should map scanned physical keys back to logical keys and hide internal ones', () => {
    const sut = new StoreKeys('p');
    expect(sut.toLogical('p:instance:1')).toBe('instance:1');
    expect(sut.toLogical(sut.lease('leader'))).toBeNull();
    expect(sut.toLogical(sut.fence('leader'))).toBeNull();
    expect(sut.toLogical(sut.mutex('k'))).toBeNull();
    expect(sut.toLogical('other:instance:1')).toBeNull();
  });

  it('should build a scan pattern that matches the prefix literally', () => {
    expect(new StoreKeys('p').scanPattern('a*b?[c]\\')).toBe('p:a\\*b\\?\\[c\\]\\\\*');
    expect(escapeGlob('plain:key')).toBe('plain:key');
  });

  it('should read and write infinite scores the way Redis spells them', () => {
    expect(parseScore('inf')).toBe(Infinity);
    expect(parseScore('-inf')).toBe(-Infinity);
    expect(parseScore('2.5')).toBe(2.5);
    expect(formatScoreBound(-Infinity)).toBe('-inf');
    expect(formatScoreBound(Infinity)).toBe('+inf');
  });
});

describe(toStoreError.name, () => {
  it('should call a reply Redis rejected an internal error, and anything else an unavailable store', () => {
    expect(toStoreError(new Error('WRONGTYPE Operation against a key'), 'get').code).toBe(
      ErrorCode.INTERNAL_ERROR,
    );
    expect(toStoreError(new Error('Command 1 [ set ] failed: ERR syntax error'), 'setMany').code).toBe(
      ErrorCode.INTERNAL_ERROR,
    );
    const down = toStoreError(new Error('connect ECONNREFUSED 127.0.0.1:6379'), 'ping');
    expect(down.code).toBe(ErrorCode.STORE_UNAVAILABLE);
    expect(down.cause).toBeInstanceOf(Error);
    // Callers see that the store is down, never where it lives.
    expect(down.message).toBe('State store unavailable during ping; retry shortly');
    expect(JSON.stringify(down.details ?? {})).not.toContain('6379');
    expect(toStoreError(new Error('WRONGTYPE at redis://10.0.0.5'), 'get').message).not.toContain('10.0.0.5');
    expect(toStoreError(new Error('Command timed out'), 'get').code).toBe(ErrorCode.STORE_UNAVAILABLE);
  });
});
