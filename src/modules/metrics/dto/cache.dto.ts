import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsOptional, IsString, MaxLength } from 'class-validator';

export class CacheStatsEntry {
  @ApiProperty({ example: 'clusters' })
  name: string;
  @ApiProperty()
  description: string;
  @ApiProperty()
  entries: number;
  @ApiProperty()
  hits: number;
  @ApiProperty()
  misses: number;
  @ApiProperty({ description: 'hits / (hits + misses), 0 before the first look-up' })
  hitRatio: number;
  @ApiProperty({ description: 'Approximate bytes held; 0 for a cache that only marks what is fresh' })
  sizeBytes: number;
}

export class CacheTotals {
  @ApiProperty()
  totalCaches: number;
  @ApiProperty()
  totalEntries: number;
  @ApiProperty()
  totalHits: number;
  @ApiProperty()
  totalMisses: number;
  @ApiProperty()
  overallHitRatio: number;
  @ApiProperty()
  totalSizeBytes: number;
}

export class CacheStatsResponse {
  @ApiProperty()
  timestamp: string;
  @ApiProperty({ type: [CacheStatsEntry] })
  caches: CacheStatsEntry[];
  @ApiProperty({ type: CacheTotals })
  summary: CacheTotals;
}

export class ClearCacheRequest {
  /** Caches to clear (names from GET /api/cache/stats); omitted or empty clears them all. */
  @ApiPropertyOptional({
    type: [String],
    example: ['templates'],
    description: 'Caches to clear (names from GET /api/cache/stats); omitted or empty clears them all',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  caches?: string[];
}

export class ClearCacheResponse {
  @ApiProperty({ type: [String] })
  cleared: string[];
  @ApiProperty()
  message: string;
  @ApiProperty()
  timestamp: string;
}
