import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { INSTANCE_STATUSES } from '../../records/instance.types';

/** Query strings arrive as text: "true"/"1" and "false"/"0" become booleans, anything else stays and fails validation. */
const toBoolean = ({ value }: { value: unknown }): unknown =>
  value === 'true' || value === '1' || value === true
    ? true
    : value === 'false' || value === '0' || value === false
      ? false
      : value;

/**
 * Sorted by creation time. Paged by cursor (pass the previous page's nextCursor), or by
 * limit/offset or page/pageSize (page is 1-based).
 */
export class ListInstancesQuery {
  /** Page size (default 100). */
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit?: number;
  /** Instances to skip (default 0). Not with cursor. */
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) offset?: number;
  /** 1-based page number, pageSize instances each. Not with cursor. */
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) page?: number;
  /** Page size with page (default 100). */
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500) pageSize?: number;
  /**
   * The previous page's nextCursor: the page starts after that page's last instance, so pages do not
   * shift when instances are created or deleted meanwhile. Keeps the order it was issued for.
   */
  @IsOptional() @IsString() @MaxLength(200) cursor?: string;
  /** By creation time: desc (newest first, the default) or asc (oldest first). */
  @IsOptional() @IsIn(['asc', 'desc']) order?: 'asc' | 'desc';
  /** Only this status (deleted instances are listed only with status=deleted). */
  @IsOptional() @IsIn(INSTANCE_STATUSES) status?: (typeof INSTANCE_STATUSES)[number];
  /** Case-insensitive substring of the name. */
  @IsOptional() @IsString() @MaxLength(100) name?: string;
  /** true: instances this service created or a user adopted; false: instances sync found on Novita. */
  @IsOptional() @Transform(toBoolean) @IsBoolean() managed?: boolean;
  /** Accepted for compatibility with the previous API; ignored. */
  @ApiPropertyOptional({ deprecated: true })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  source?: string;
  /** Accepted for compatibility and ignored; use /api/instances/comprehensive. */
  @ApiPropertyOptional({ deprecated: true })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  includeNovitaOnly?: boolean;
  /** Accepted for compatibility and ignored; use /api/instances/comprehensive. */
  @ApiPropertyOptional({ deprecated: true })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  syncLocalState?: boolean;
}

export class ComprehensiveQuery {
  /** Include Novita instances this service does not manage (default DEFAULT_INCLUDE_NOVITA_ONLY). */
  @IsOptional() @Transform(toBoolean) @IsBoolean() includeNovitaOnly?: boolean;
  /** Run a sync pass first, writing Novita's state into the store (default DEFAULT_SYNC_LOCAL_STATE). */
  @IsOptional() @Transform(toBoolean) @IsBoolean() syncLocalState?: boolean;
}
