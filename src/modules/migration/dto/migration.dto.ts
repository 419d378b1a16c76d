import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ApiInt } from '../../../common/http/api-number.decorators';
import { Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, Max, Min } from 'class-validator';

export class TriggerMigrationDto {
  @ApiPropertyOptional({
    description:
      'Report the eligible instances without migrating anything (default false; always true while MIGRATION_DRY_RUN is on)',
    example: true,
  })
  @IsOptional()
  @IsBoolean()
  dryRun?: boolean;

  @ApiPropertyOptional({
    description:
      'Open at most this many migrations in this pass (default: no limit); the rest are listed as deferred',
    minimum: 1,
    maximum: 1000,
    example: 10,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  maxMigrations?: number;
}

export class MigrationHistoryQuery {
  @ApiPropertyOptional({
    description: 'Executions per page (newest first)',
    minimum: 1,
    maximum: 50,
    default: 20,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(50)
  limit?: number;

  @ApiPropertyOptional({ description: 'Executions to skip', minimum: 0, default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  offset?: number;
}

export class ExecutionSummaryDto {
  @ApiInt({ description: 'Novita instances examined (the whole account)' }) totalInstances!: number;
  @ApiInt({
    description:
      'Reclaimed managed spot instances that qualify for migration (including ones already migrating)',
  })
  eligibleInstances!: number;
  @ApiInt({ description: 'Migrations this execution opened (0 in a dry run)' })
  migratedInstances!: number;
  @ApiInt({ description: 'Instances whose handling failed in this execution' }) errorCount!: number;
}

export class InstanceOutcomeDto {
  @ApiProperty() novitaInstanceId!: string;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Our instance id; null when this service does not track it',
  })
  instanceId!: string | null;
  @ApiProperty() name!: string;
  @ApiProperty({
    enum: ['migration_started', 'would_migrate', 'deferred', 'skipped', 'error'],
    description: 'What this execution did with the reclaimed instance',
  })
  outcome!: string;
  @ApiPropertyOptional({ description: 'Why it was skipped, deferred or failed' }) reason?: string;
  @ApiPropertyOptional({ description: 'The migration operation opened' }) operationId?: string;
}

export class ExecutionDto {
  @ApiProperty({ description: 'Execution id' }) id!: string;
  @ApiProperty({ description: 'Same as id (the spec calls it jobId in logs)' }) jobId!: string;
  @ApiProperty({ enum: ['schedule', 'startup', 'manual'] }) trigger!: string;
  @ApiProperty({ enum: ['automatic_migration', 'manual_trigger'] }) triggeredBy!: string;
  @ApiProperty({
    enum: ['completed', 'completed_with_errors', 'failed'],
    description:
      'completed: every instance handled; completed_with_errors: some failed; failed: the pass itself failed',
  })
  status!: string;
  @ApiProperty() dryRun!: boolean;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty({ format: 'date-time' }) finishedAt!: string;
  @ApiInt({ description: 'Milliseconds' }) duration!: number;
  @ApiProperty({ type: ExecutionSummaryDto }) summary!: ExecutionSummaryDto;
  @ApiProperty({
    type: [InstanceOutcomeDto],
    description: 'One entry per reclaimed spot instance seen (other instances are only counted)',
  })
  instances!: InstanceOutcomeDto[];
  @ApiPropertyOptional({ description: 'Why the pass failed' }) error?: string;
}

export class MigrationStatisticsDto {
  @ApiInt({ description: 'Full passes run (scheduled, startup and manual)' }) totalExecutions!: number;
  @ApiInt({ description: 'Passes that did not fail as a whole' }) successfulExecutions!: number;
  @ApiInt() failedExecutions!: number;
  @ApiInt({ description: 'Migrations opened, by passes and by the quick reclaim check' })
  totalMigrations!: number;
  @ApiInt({
    description: 'Instances examined by passes, plus reclaims the quick check turned into migrations',
  })
  totalInstancesProcessed!: number;
  @ApiInt({ description: 'Mean pass duration in milliseconds (0 before the first pass)' })
  averageExecutionTime!: number;
  @ApiInt({ description: 'Migrations that ended ready through Novita migrate' })
  migrationsSucceeded!: number;
  @ApiInt({ description: 'Migrations that ended ready through recreation' })
  migrationsRecreated!: number;
  @ApiInt({ description: 'Migrations that ended with the instance marked failed' })
  migrationsFailed!: number;
}

export class MigrationConfigurationDto {
  @ApiProperty() enabled!: boolean;
  @ApiInt() intervalMinutes!: number;
  @ApiInt() reclaimCheckIntervalSeconds!: number;
  @ApiInt() jobTimeoutMs!: number;
  @ApiInt() maxConcurrent!: number;
  @ApiProperty() dryRun!: boolean;
  @ApiProperty() retryFailed!: boolean;
  @ApiProperty({ enum: ['error', 'warn', 'info', 'debug'] }) logLevel!: string;
  @ApiInt() eligibilityIntervalHours!: number;
}

export class OpenMigrationDto {
  @ApiProperty() operationId!: string;
  @ApiProperty() instanceId!: string;
  @ApiProperty({ description: 'The Novita instance followed now (the replacement after a recreation)' })
  novitaInstanceId!: string;
  @ApiProperty({ description: 'The reclaimed Novita instance' }) originalNovitaInstanceId!: string;
  @ApiProperty({
    enum: [
      'queued',
      'migrate_intent',
      'migrating',
      'recreate_intent',
      'delete_old',
      'waiting_running',
      'readiness',
    ],
  })
  step!: string;
  @ApiProperty() phase!: string;
  @ApiProperty({ enum: ['automatic_migration', 'manual_trigger'] }) triggeredBy!: string;
  @ApiProperty({ format: 'date-time' }) detectedAt!: string;
  @ApiProperty({ format: 'date-time' }) deadline!: string;
  @ApiProperty({ nullable: true, type: String, description: "Novita's instanceMigrate job" }) jobId!:
    string | null;
  @ApiProperty({ nullable: true, type: String }) jobState!: string | null;
  @ApiProperty({
    nullable: true,
    type: Object,
    description: 'Why Novita migration failed (recreation follows)',
  })
  failure!: { code: string; message: string } | null;
  @ApiProperty({ nullable: true, type: String, description: 'Last transient error; the next step retries' })
  lastError!: string | null;
}

export class MigrationOutcomeDto {
  @ApiProperty() operationId!: string;
  @ApiProperty() instanceId!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['migrated', 'recreated', 'failed', 'cancelled'] }) outcome!: string;
  @ApiProperty() originalNovitaInstanceId!: string;
  @ApiProperty({ nullable: true, type: String }) novitaInstanceId!: string | null;
  @ApiProperty({ format: 'date-time' }) detectedAt!: string;
  @ApiProperty({ format: 'date-time' }) completedAt!: string;
  @ApiInt({ nullable: true, description: 'Milliseconds from detection to ready' })
  migrationTimeMs!: number | null;
}

export class MigrationsInFlightDto {
  @ApiInt({ description: 'Migrations Novita is working on (counted against MIGRATION_MAX_CONCURRENT)' })
  inFlight!: number;
  @ApiInt({ description: 'Detected reclaims waiting for a slot' }) queued!: number;
  @ApiProperty({ type: [OpenMigrationDto] }) open!: OpenMigrationDto[];
  @ApiProperty({ type: [MigrationOutcomeDto], description: 'Latest finished migrations, newest first' })
  recent!: MigrationOutcomeDto[];
}

export class MigrationStatusDto {
  @ApiProperty({ description: 'MIGRATION_ENABLED' }) enabled!: boolean;
  @ApiProperty({ description: 'MIGRATION_DRY_RUN' }) dryRun!: boolean;
  @ApiProperty({ enum: ['healthy', 'unhealthy', 'disabled'] }) status!: string;
  @ApiProperty({ description: 'A full pass is running now (on any replica)' }) isRunning!: boolean;
  @ApiProperty({ type: ExecutionDto, nullable: true, description: 'null before the first pass' })
  lastExecution!: ExecutionDto | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'null when disabled' })
  nextExecution!: string | null;
  @ApiProperty({ type: MigrationStatisticsDto }) statistics!: MigrationStatisticsDto;
  @ApiProperty({ type: MigrationConfigurationDto }) configuration!: MigrationConfigurationDto;
  @ApiProperty({ type: MigrationsInFlightDto }) migrations!: MigrationsInFlightDto;
}

export class MigrationHistoryDto {
  @ApiProperty({ type: [ExecutionDto], description: 'Newest first; the last 50 executions are kept' })
  executions!: ExecutionDto[];
  @ApiInt({ description: 'Executions kept' }) total!: number;
  @ApiInt() limit!: number;
  @ApiInt() offset!: number;
}
