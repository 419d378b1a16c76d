import { Body, Controller, Get, HttpCode, HttpStatus, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import {
  ErrorEnvelopeDto,
  ExecutionDto,
  MigrationHistoryDto,
  MigrationHistoryQuery,
  MigrationStatusDto,
  TriggerMigrationDto,
} from './dto/migration.dto';
import { ExecutionView, MigrationService, MigrationStatusView } from './migration.service';

@ApiTags('migration')
@ApiUnauthorizedResponse({ type: ErrorEnvelopeDto, description: 'Missing or wrong API key' })
@ApiServiceUnavailableResponse({
  type: ErrorEnvelopeDto,
  description: 'The store is unreachable (STORE_UNAVAILABLE)',
})
@Controller('api/migration')
export class MigrationController {
  constructor(private readonly migration: MigrationService) {}

  @Get('status')
  @ApiOperation({
    summary: 'Spot recovery status',
    description:
      'Whether automatic migration is on, the last and next full pass, statistics over all passes, the configuration, ' +
      'and the migrations in flight, queued and recently finished.',
  })
  @ApiOkResponse({ type: MigrationStatusDto })
  getMigrationStatus(): Promise<MigrationStatusView> {
    return this.migration.status();
  }

  @Post('trigger')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Run a full migration pass now',
    description:
      'Lists every Novita instance, applies the eligibility rule and opens a migration for each reclaimed managed ' +
      'spot instance (up to maxMigrations). With dryRun nothing is migrated and the eligible instances are listed ' +
      'with outcome would_migrate. Answers when the pass is done; the migrations themselves continue in the background.',
  })
  @ApiOkResponse({ type: ExecutionDto, description: 'The finished execution' })
  @ApiBadRequestResponse({ type: ErrorEnvelopeDto, description: 'Invalid body (VALIDATION_ERROR)' })
  @ApiConflictResponse({
    type: ErrorEnvelopeDto,
    description: 'A pass is already running (OPERATION_IN_PROGRESS)',
  })
  @ApiNotFoundResponse({
    type: ErrorEnvelopeDto,
    description: 'MIGRATION_ENABLED=false and dryRun is not true (FEATURE_DISABLED)',
  })
  triggerMigration(@Body() dto: TriggerMigrationDto = {}): Promise<ExecutionView> {
    return this.migration.trigger(dto ?? {});
  }

  @Get('history')
  @ApiOperation({
    summary: 'Recent full passes',
    description:
      'Executions newest first, each with its summary and the outcome for every reclaimed instance it saw.',
  })
  @ApiOkResponse({ type: MigrationHistoryDto })
  @ApiBadRequestResponse({
    type: ErrorEnvelopeDto,
    description: 'Invalid limit or offset (VALIDATION_ERROR)',
  })
  getMigrationHistory(@Query() query: MigrationHistoryQuery): Promise<MigrationHistoryDto> {
    return this.migration.history(query.limit ?? 20, query.offset ?? 0);
  }
}
