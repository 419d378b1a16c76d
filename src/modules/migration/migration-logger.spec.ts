import { Logger } from '@nestjs/common';
import { MigrationLogger } from './migration-logger';

describe('MigrationLogger (MIGRATION_LOG_LEVEL)', () => {
  afterEach(() => jest.restoreAllMocks());

  it('writes only lines at or above the configured level', () => {
    const debug = jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);

    const atWarn = new MigrationLogger('m', 'warn');
    atWarn.debug({}, 'd');
    atWarn.info({}, 'i');
    atWarn.warn({}, 'w');
    expect(debug).not.toHaveBeenCalled();
    expect(log).not.toHaveBeenCalled();
    expect(warn).toHaveBeenCalledTimes(1);

    const atDebug = new MigrationLogger('m', 'debug');
    atDebug.debug({ a: 1 }, 'd');
    atDebug.info({}, 'i');
    expect(debug).toHaveBeenCalledWith({ a: 1 }, 'd');
    expect(log).toHaveBeenCalledTimes(1);
  });
});
