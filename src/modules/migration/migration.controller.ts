import { Body, Controller, Get, HttpCode, HttpStatus, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponses, ApiOptionalBody } from '../../common/http/api-error-responses.decorator';
import {
  ExecutionDto,
  MigrationHistoryDto,
  MigrationHistoryQuery,
  MigrationStatusDto,
  TriggerMigrationDto,
} from './dto/migration.dto';
import { MigrationService } from './migration.service';
import { ExecutionView, MigrationStatusView, MigrationViews } from './migration-views';

@ApiTags('migration')
@Controller('api/migration')
export class MigrationController {
  constructor(
    private readonly migration: MigrationService,
    private readonly views: MigrationViews,
  ) {}

  @Get('status')
  @ApiOperation({
    summary: 'Spot recovery status',
    description:
      'Whether automatic migration is on, the last and next full pass, statistics over all passes, the configuration, ' +
      'and the migrations in flight, queued and recently finished.',
  })
  @ApiOkResponse({ type: MigrationStatusDto })
  @ApiErrorResponses(400, 401, 429, 503)
  getMigrationStatus(): Promise<MigrationStatusView> {
    return this.views.status();
  }

  @Post('trigger')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Run a full migration pass now',
    description:
      'Lists every Novita instance, applies the eligibility rule and opens a migration for each reclaimed managed ' +
      'spot instance (up to maxMigrations). With dryRun nothing is migrated and the eligible instances are listed ' +
      'with outcome would_migrate. Answers when the pass is done; the migrations themselves continue in the background. ' +
      '404 FEATURE_DISABLED when MIGRATION_ENABLED=false and dryRun is not true; 409 OPERATION_IN_PROGRESS while a pass runs; ' +
      '502/503/504 when Novita cannot list the instances.',
  })
  @ApiOptionalBody(TriggerMigrationDto)
  @ApiOkResponse({ type: ExecutionDto, description: 'The finished execution' })
  @ApiErrorResponses(400, 401, 404, 409, 413, 415, 429, 502, 503, 504)
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
  @ApiErrorResponses(400, 401, 429, 503)
  getMigrationHistory(@Query() query: MigrationHistoryQuery): Promise<MigrationHistoryDto> {
    return this.views.history(query.limit ?? 20, query.offset ?? 0);
  }
}
