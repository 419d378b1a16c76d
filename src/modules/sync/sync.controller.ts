import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponses, ApiOptionalBody } from '../../common/http/api-error-responses.decorator';
import { SyncHistoryQuery, SyncHistoryResponseDto, SyncRequestDto, SyncResponseDto } from './dto/sync.dto';
import { SyncJob } from './sync.job';

@ApiTags('sync')
@Controller()
export class SyncController {
  constructor(private readonly job: SyncJob) {}

  /**
   * Runs one sync pass now: Novita's list is folded into the store, unknown instances are recorded as
   * unmanaged, and the obsolete policy applies. dryRun reports the same counts and changes nothing.
   * 409 with the running pass's runId when a pass is already running on any replica.
   */
  @Post('api/instances/sync')
  @HttpCode(200)
  @ApiOptionalBody(SyncRequestDto)
  @ApiOkResponse({
    type: SyncResponseDto,
    description: 'What the pass changed (or, with dryRun, would change)',
  })
  @ApiErrorResponses(400, 401, 409, 413, 415, 429, 503)
  async syncInstances(@Body() dto: SyncRequestDto = {}): Promise<SyncResponseDto> {
    const body = dto ?? {};
    const options = {
      forceSync: body.forceSync ?? false,
      handleObsoleteInstances: body.handleObsoleteInstances ?? true,
      dryRun: body.dryRun ?? false,
    };
    const report = await this.job.trigger(options);
    return {
      success: report.errors.length === 0,
      message: options.dryRun
        ? 'Dry run: nothing was changed'
        : report.errors.length === 0
          ? 'Instances synchronized successfully'
          : `Instances synchronized with ${report.errors.length} error(s)`,
      data: report,
    };
  }

  /** Recent sync passes (scheduled, startup and manual), newest first. */
  @Get('api/sync/history')
  @ApiOkResponse({ type: SyncHistoryResponseDto, description: 'Recent sync runs, newest first' })
  @ApiErrorResponses(400, 401, 429, 503)
  async getSyncHistory(@Query() query: SyncHistoryQuery): Promise<SyncHistoryResponseDto> {
    return { runs: await this.job.history(query.limit ?? 20) };
  }
}
