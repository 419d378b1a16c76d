import { Logger } from '@nestjs/common';
import { MigrationConfig } from '../../config/config.types';

const RANK: Record<MigrationConfig['logLevel'], number> = { error: 0, warn: 1, info: 2, debug: 3 };

/**
 * The migration module's logger: MIGRATION_LOG_LEVEL caps how detailed its lines are, independently
 * of the rest of the service (the global LOG_LEVEL still applies on top, so debug lines need both).
 */
export class MigrationLogger {
  private readonly logger: Logger;

  constructor(
    context: string,
    private readonly level: MigrationConfig['logLevel'],
  ) {
    this.logger = new Logger(context);
  }

  enabled(level: MigrationConfig['logLevel']): boolean {
    return RANK[level] <= RANK[this.level];
  }

  error(fields: Record<string, unknown>, message: string): void {
    if (this.enabled('error')) this.logger.error(fields, message);
  }

  warn(fields: Record<string, unknown>, message: string): void {
    if (this.enabled('warn')) this.logger.warn(fields, message);
  }

  info(fields: Record<string, unknown>, message: string): void {
    if (this.enabled('info')) this.logger.log(fields, message);
  }

  debug(fields: Record<string, unknown>, message: string): void {
    if (this.enabled('debug')) this.logger.debug(fields, message);
  }
}
