import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ApiDecimal, ApiInt } from '../../../common/http/api-number.decorators';
import { ArrayMaxSize, IsArray, IsOptional, IsString, MaxLength } from 'class-validator';

export class CacheStatsEntry {
  @ApiProperty({ example: 'clusters' })
  name: string;
  @ApiProperty()
  description: string;
  @ApiInt()
  entries: number;
  @ApiInt()
  hits: number;
  @ApiInt()
  misses: number;
  @ApiDecimal({ description: 'hits / (hits + misses), 0 before the first look-up' })
  hitRatio: number;
  @ApiInt({ description: 'Approximate bytes held; 0 for a cache that only marks what is fresh' })
  sizeBytes: number;
}

export class CacheTotals {
  @ApiInt()
  totalCaches: number;
  @ApiInt()
  totalEntries: number;
  @ApiInt()
  totalHits: number;
  @ApiInt()
  totalMisses: number;
  @ApiDecimal()
  overallHitRatio: number;
  @ApiInt()
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
