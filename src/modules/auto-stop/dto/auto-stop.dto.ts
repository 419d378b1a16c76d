import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ApiDecimal, ApiInt } from '../../../common/http/api-number.decorators';
import { IsBoolean, IsIn, IsInt, IsOptional, Max, Min, ValidateIf } from 'class-validator';
import { IDLE_ACTIONS, IdleAction } from '../../records/idle-policy';

/** Static limits of the DTOs; the operator's bounds (AUTO_STOP_MIN/MAX_IDLE_MINUTES) are checked on top. */
export const MAX_IDLE_MINUTES_LIMIT = 10080;
export const MAX_DELETE_AFTER_MINUTES = 43200;

/** A per-instance idle policy as requested: every field optional, missing ones keep their value or default. */
export class AutoStopPolicyDto {
  @ApiPropertyOptional({
    description: 'false turns auto-stop off for this instance (refused when AUTO_STOP_ALLOW_DISABLE=false)',
  })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({
    description:
      'Minutes without a heartbeat before the instance is acted on; default AUTO_STOP_INACTIVITY_THRESHOLD_MINUTES, within AUTO_STOP_MIN_IDLE_MINUTES..AUTO_STOP_MAX_IDLE_MINUTES',
    minimum: 1,
    maximum: MAX_IDLE_MINUTES_LIMIT,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_IDLE_MINUTES_LIMIT)
  idleMinutes?: number;

  @ApiPropertyOptional({ enum: IDLE_ACTIONS, description: 'stop (default) or delete the idle instance' })
  @IsOptional()
  @IsIn(IDLE_ACTIONS)
  action?: IdleAction;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 1,
    maximum: MAX_DELETE_AFTER_MINUTES,
    description:
      'Stop-then-delete: an instance auto-stop stopped is deleted this many minutes later unless started again; null (default) never deletes',
  })
  @IsOptional()
  @ValidateIf((o: AutoStopPolicyDto) => o.deleteAfterStoppedMinutes !== null)
  @IsInt()
  @Min(1)
  @Max(MAX_DELETE_AFTER_MINUTES)
  deleteAfterStoppedMinutes?: number | null;
}

export class SnoozeDto {
  @ApiProperty({
    description:
      'Minutes to push the idle deadline by, from the later of the current deadline and now; the result may lie at most AUTO_STOP_MAX_IDLE_MINUTES from now',
    minimum: 1,
    maximum: MAX_IDLE_MINUTES_LIMIT,
  })
  @IsInt()
  @Min(1)
  @Max(MAX_IDLE_MINUTES_LIMIT)
  minutes!: number;
}

export class TriggerAutoStopDto {
  @ApiPropertyOptional({
    description:
      'true: list what a pass would stop or delete now and why, from the store only (no Novita call, no change)',
    default: false,
  })
  @IsOptional()
  @IsBoolean()
  dryRun?: boolean;
}

export class IdlePolicyResponseDto {
  @ApiProperty() enabled!: boolean;
  @ApiInt() idleMinutes!: number;
  @ApiProperty({ enum: IDLE_ACTIONS }) action!: IdleAction;
  @ApiInt({ nullable: true }) deleteAfterStoppedMinutes!: number | null;
}

export class InstanceAutoStopResponseDto {
  @ApiProperty() instanceId!: string;
  @ApiProperty({ description: 'Auto-stop acts only on managed instances' }) managed!: boolean;
  @ApiProperty({ description: 'The policy that applies (request + defaults, within the bounds)' })
  policy!: IdlePolicyResponseDto;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'When auto-stop acts if no heartbeat arrives; null when the instance is not tracked',
  })
  idleDeadline!: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Stop-then-delete: when the stopped instance is deleted',
  })
  pendingDeleteAt!: string | null;
  @ApiProperty() status!: string;
}

export class SnoozeResponseDto {
  @ApiProperty() instanceId!: string;
  @ApiProperty({ type: String, nullable: true }) previousDeadline!: string | null;
  @ApiProperty() idleDeadline!: string;
  @ApiProperty() message!: string;
}

export class SweepCandidateDto {
  @ApiProperty() instanceId!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: IDLE_ACTIONS }) action!: IdleAction;
  @ApiProperty({ description: 'Which deadline passed and how long the instance was idle' }) reason!: string;
  @ApiProperty() idleDeadline!: string;
  @ApiInt() idleSeconds!: number;
  @ApiProperty() policy!: IdlePolicyResponseDto;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'The stop operation (real passes)' })
  operationId?: string | null;
}

export class SkippedDto {
  @ApiProperty() instanceId!: string;
  @ApiProperty() reason!: string;
}

export class TriggerResponseDto {
  @ApiProperty() at!: string;
  @ApiProperty({ description: 'True when the trigger asked for it or AUTO_STOP_DRY_RUN=true' })
  dryRun!: boolean;
  @ApiInt({ description: 'Deadline-set members handled in this pass' }) due!: number;
  @ApiProperty({
    type: [SweepCandidateDto],
    description: 'Stopped or deleted (dry run: would be, in the same order and with the same reasons)',
  })
  acted!: SweepCandidateDto[];
  @ApiProperty({ type: [String], description: 'Instances sent instance.idle_warning' }) warned!: string[];
  @ApiProperty({ type: [SkippedDto] }) skipped!: SkippedDto[];
  @ApiProperty({ type: [String], description: 'In another operation: tried again next pass' })
  retried!: string[];
  @ApiProperty({ type: [SkippedDto], description: 'instanceId and message of each failure' })
  errors!: { instanceId: string; message: string }[];
}

export class AutoStopTotalsDto {
  @ApiProperty({ type: String, nullable: true, description: 'When the store recorded the first total' })
  since!: string | null;
  @ApiInt() stopped!: number;
  @ApiInt() deleted!: number;
  @ApiInt() warnings!: number;
  @ApiInt() errors!: number;
  @ApiDecimal({ description: 'GPU-hours not billed because of auto-stop (see docs/auto-stop.md)' })
  gpuHoursSaved!: number;
  @ApiDecimal({ description: 'USD not billed because of auto-stop (instance price x hours saved)' })
  dollarsSaved!: number;
}

export class AutoStopBoundsDto {
  @ApiInt() minIdleMinutes!: number;
  @ApiInt() maxIdleMinutes!: number;
  @ApiProperty() allowDisable!: boolean;
}

export class AutoStopStatsDto {
  @ApiProperty() enabled!: boolean;
  @ApiProperty() dryRun!: boolean;
  @ApiInt({ description: 'Default idleMinutes (AUTO_STOP_INACTIVITY_THRESHOLD_MINUTES)' })
  thresholdMinutes!: number;
  @ApiInt({ description: 'Consistency check period (AUTO_STOP_CHECK_INTERVAL_SECONDS)' })
  checkIntervalSeconds!: number;
  @ApiInt({ description: 'Deadline sweep period (AUTO_STOP_SWEEP_INTERVAL_SECONDS)' })
  sweepIntervalSeconds!: number;
  @ApiInt() warningMinutes!: number;
  @ApiProperty() bounds!: AutoStopBoundsDto;
  @ApiInt({ description: 'Instances with an idle deadline' }) tracked!: number;
  @ApiInt({ description: 'Deadlines already passed (acted on by the next pass)' }) dueNow!: number;
  @ApiInt({ description: 'Stop-then-delete deletions scheduled' }) pendingDeletes!: number;
  @ApiProperty({ type: String, nullable: true, description: 'Earliest idle deadline still ahead' })
  nextDeadline!: string | null;
  @ApiProperty({
    type: Object,
    nullable: true,
    description: 'Summary of the last pass that did something (any replica)',
  })
  lastRun!: Record<string, unknown> | null;
  @ApiProperty() totals!: AutoStopTotalsDto;
}
