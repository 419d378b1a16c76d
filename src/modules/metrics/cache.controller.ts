import { Body, Controller, Get, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ApiOperation, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponses, ApiOptionalBody } from '../../common/http/api-error-responses.decorator';
import { AppError, ErrorCode } from '../../common/errors';
import { CacheRegistry, UnknownCacheError } from '../../infra/metrics/cache-registry';
import { CacheStatsResponse, ClearCacheRequest, ClearCacheResponse } from './dto/cache.dto';
import { cacheSummary } from './metrics-summary.service';

/**
 * The in-process caches of Novita data (catalogue, templates, observed-status freshness) on the
 * replica that answers. Nothing the service owns is a cache: records, operations, the webhook
 * outbox, idempotency keys and rate-limit counters are never touched.
 */
@ApiTags('cache')
@Controller('api/cache')
export class CacheController {
  constructor(private readonly caches: CacheRegistry) {}

  /** Each cache with its entries, hits, misses, hit ratio and approximate size. */
  @Get('stats')
  @ApiOperation({
    summary: 'Statistics of each cache of Novita data on this replica',
    description: 'Entries, hits, misses, hit ratio and approximate size per cache, with totals.',
  })
  @ApiOkResponse({ type: CacheStatsResponse })
  @ApiErrorResponses(400, 401, 429, 503)
  async getCacheStats(): Promise<CacheStatsResponse> {
    const caches = await this.caches.stats();
    const totals = cacheSummary(caches);
    const hits = caches.reduce((n, c) => n + c.hits, 0);
    const misses = caches.reduce((n, c) => n + c.misses, 0);
    return {
      timestamp: new Date().toISOString(),
      caches,
      summary: {
        totalCaches: caches.length,
        totalEntries: totals.totalEntries,
        totalHits: hits,
        totalMisses: misses,
        overallHitRatio: totals.hitRatio,
        totalSizeBytes: totals.totalSize,
      },
    };
  }

  /**
   * Empties the named caches, or all of them; the next read fetches from Novita again. Hit and miss
   * counts are kept. Acts on this replica only.
   */
  @Post('clear')
  @ApiOperation({
    summary: 'Clear caches of Novita data on this replica',
    description:
      'Clears the named caches, or all when none are named; the next read asks Novita again. Never touches instance ' +
      'records, operations, the webhook outbox, idempotency keys or rate-limit counters. An unknown cache name is a 400 ' +
      'VALIDATION_ERROR whose details list the known ones.',
  })
  @HttpCode(HttpStatus.OK)
  @ApiOptionalBody(ClearCacheRequest)
  @ApiOkResponse({ type: ClearCacheResponse })
  @ApiErrorResponses(400, 401, 413, 415, 429, 503)
  async clearCache(@Body() body: ClearCacheRequest): Promise<ClearCacheResponse> {
    try {
      const cleared = await this.caches.clear(body?.caches);
      return {
        cleared,
        message: `Cleared ${cleared.length} cache${cleared.length === 1 ? '' : 's'}`,
        timestamp: new Date().toISOString(),
      };
    } catch (err) {
      if (err instanceof UnknownCacheError) {
        throw new AppError(ErrorCode.VALIDATION_ERROR, err.message, {
          unknown: err.unknown,
          known: err.known,
        });
      }
      throw err;
    }
  }
}
