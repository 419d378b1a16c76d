import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ApiInt } from '../../../common/http/api-number.decorators';
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
  @ApiInt()
  beforeSync!: number;
  /** Local records after the pass (before + adopted - removed). */
  @ApiInt()
  afterSync!: number;
  /** Instances Novita listed. */
  @ApiInt()
  novitaInstances!: number;
  @ApiInt()
  localInstances!: number;
  /** Local records Novita also listed. */
  @ApiInt()
  mergedInstances!: number;
  @ApiInt()
  totalInstances!: number;
  @ApiInt()
  instancesRemoved!: number;
  /** Records whose observed state changed. */
  @ApiInt()
  updated!: number;
  /** Instances found on Novita and recorded as unmanaged. */
  @ApiInt()
  adopted!: number;
  /** Records marked terminated because Novita no longer has them. */
  @ApiInt()
  markedObsolete!: number;
  @ApiInt()
  unchanged!: number;
  /** Novita list pages read. */
  @ApiInt()
  pages!: number;
  errors!: SyncErrorDto[];
  /** Milliseconds. */
  @ApiInt()
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
  @ApiInt()
  durationMs!: number;
  @ApiProperty({ enum: ['succeeded', 'partial', 'failed'] })
  outcome!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' } })
  counts!: Record<string, number>;
  error?: string;
}

export class SyncHistoryResponseDto {
  @ApiProperty({ type: [RunSummaryDto] })
  runs!: RunSummaryDto[];
}
