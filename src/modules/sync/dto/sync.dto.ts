import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, Max, Min } from 'class-validator';

export class SyncRequestDto {
  /** Run even when automatic sync is disabled (a manual pass always runs; kept for existing clients). */
  @IsOptional()
  @IsBoolean()
  forceSync?: boolean;

  /** Apply the obsolete-instance policy to records Novita no longer has (default true). */
  @IsOptional()
  @IsBoolean()
  handleObsoleteInstances?: boolean;

  /** Report what a real pass would change, changing nothing (default false). */
  @IsOptional()
  @IsBoolean()
  dryRun?: boolean;
}

export class SyncHistoryQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 50, default: 20, type: 'integer' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(50)
  limit?: number;
}

export class SyncOptionsDto {
  forceSync!: boolean;
  handleObsoleteInstances!: boolean;
  dryRun!: boolean;
}

export class SyncErrorDto {
  instanceId?: string;
  novitaInstanceId?: string;
  message!: string;
}

export class SyncDataDto {
  runId!: string;
  /** Local records before the pass. */
  beforeSync!: number;
  /** Local records after the pass (before + adopted - removed). */
  afterSync!: number;
  /** Instances Novita listed. */
  novitaInstances!: number;
  localInstances!: number;
  /** Local records Novita also listed. */
  mergedInstances!: number;
  totalInstances!: number;
  instancesRemoved!: number;
  /** Records whose observed state changed. */
  updated!: number;
  /** Instances found on Novita and recorded as unmanaged. */
  adopted!: number;
  /** Records marked terminated because Novita no longer has them. */
  markedObsolete!: number;
  unchanged!: number;
  /** Novita list pages read. */
  pages!: number;
  errors!: SyncErrorDto[];
  /** Milliseconds. */
  duration!: number;
  timestamp!: string;
  options!: SyncOptionsDto;
}

export class SyncResponseDto {
  success!: boolean;
  message!: string;
  data!: SyncDataDto;
}

export class RunSummaryDto {
  id!: string;
  job!: string;
  @ApiProperty({ enum: ['schedule', 'startup', 'manual'] })
  trigger!: string;
  startedAt!: string;
  finishedAt!: string;
  durationMs!: number;
  @ApiProperty({ enum: ['succeeded', 'partial', 'failed'] })
  outcome!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' } })
  counts!: Record<string, number>;
  error?: string;
}

export class SyncHistoryResponseDto {
  @ApiProperty({ type: [RunSummaryDto] })
  runs!: RunSummaryDto[];
}
