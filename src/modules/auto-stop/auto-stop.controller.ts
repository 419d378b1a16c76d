import { Body, Controller, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponses, ApiOptionalBody } from '../../common/http/api-error-responses.decorator';
import { ApiInstanceIdParam, InstanceIdPipe } from '../instances/dto/instance-id.pipe';
import { AutoStopService } from './auto-stop.service';
import {
  AutoStopPolicyDto,
  AutoStopStatsDto,
  InstanceAutoStopResponseDto,
  SnoozeDto,
  SnoozeResponseDto,
  TriggerAutoStopDto,
  TriggerResponseDto,
} from './dto/auto-stop.dto';

/**
 * Auto-stop: stats and the manual trigger (static paths), per-instance policy and snooze. Its module
 * is imported before InstancesModule so the static paths are registered before ":instanceId" routes.
 */
@ApiTags('auto-stop')
@Controller('api/instances')
export class AutoStopController {
  constructor(private readonly autoStop: AutoStopService) {}

  @Get('auto-stop/stats')
  @ApiOperation({
    summary: 'Auto-stop settings, tracked instances and totals',
    description:
      'Settings in force, how many instances have an idle deadline, how many are due, the next deadline, the last pass that did something, and totals (stopped, deleted, warnings, errors, GPU-hours and dollars saved) kept in the store for all replicas.',
  })
  @ApiOkResponse({ type: AutoStopStatsDto })
  @ApiErrorResponses(400, 401, 429, 503)
  getAutoStopStats(): Promise<AutoStopStatsDto> {
    return this.autoStop.stats();
  }

  @Post('auto-stop/trigger')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Run one auto-stop pass now',
    description:
      'dryRun=true (or AUTO_STOP_DRY_RUN=true) lists the instances a pass would stop or delete now and why, decided from the store: no Novita call, no change. Otherwise one real pass runs on this replica and its result is returned. ' +
      '404 FEATURE_DISABLED when AUTO_STOP_ENABLED=false and dryRun was not set; 409 OPERATION_IN_PROGRESS while a pass runs on this replica.',
  })
  @ApiOptionalBody(TriggerAutoStopDto)
  @ApiOkResponse({ type: TriggerResponseDto })
  @ApiErrorResponses(400, 401, 404, 409, 413, 415, 429, 503)
  triggerAutoStop(@Body() dto: TriggerAutoStopDto = {}): Promise<TriggerResponseDto> {
    return this.autoStop.trigger(dto?.dryRun === true);
  }

  @Get(':instanceId/auto-stop')
  @ApiOperation({
    summary: "An instance's idle policy and deadline",
    description:
      'The idle policy in force (request + defaults, within the operator bounds), the idle deadline and any pending stop-then-delete. 404 when no such instance exists.',
  })
  @ApiInstanceIdParam()
  @ApiOkResponse({ type: InstanceAutoStopResponseDto })
  @ApiErrorResponses(400, 401, 404, 429, 503)
  getAutoStopPolicy(@Param('instanceId', InstanceIdPipe) id: string): Promise<InstanceAutoStopResponseDto> {
    return this.autoStop.get(id);
  }

  @Put(':instanceId/auto-stop')
  @ApiOperation({
    summary: "Change an instance's idle policy",
    description:
      'Fields left out keep their value. The idle deadline follows: last activity + the new idleMinutes, or cleared when disabled. Bounds: AUTO_STOP_MIN_IDLE_MINUTES, AUTO_STOP_MAX_IDLE_MINUTES, AUTO_STOP_ALLOW_DISABLE; ' +
      'a value outside them is a 400 VALIDATION_ERROR naming the bound. 409 OPERATION_IN_PROGRESS while another request holds the instance.',
  })
  @ApiInstanceIdParam()
  @ApiOkResponse({ type: InstanceAutoStopResponseDto })
  @ApiErrorResponses(400, 401, 404, 409, 413, 415, 429, 503)
  updateAutoStopPolicy(
    @Param('instanceId', InstanceIdPipe) id: string,
    @Body() dto: AutoStopPolicyDto,
  ): Promise<InstanceAutoStopResponseDto> {
    return this.autoStop.update(id, dto);
  }

  @Post(':instanceId/auto-stop/snooze')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Push the idle deadline',
    description:
      'Moves the deadline by `minutes` from the later of the current deadline and now. The new deadline may lie at most AUTO_STOP_MAX_IDLE_MINUTES from now (400 otherwise). ' +
      '409 INVALID_STATE when the instance has no idle deadline (not running, unmanaged or disabled).',
  })
  @ApiInstanceIdParam()
  @ApiOkResponse({ type: SnoozeResponseDto })
  @ApiErrorResponses(400, 401, 404, 409, 413, 415, 429, 503)
  snoozeAutoStop(
    @Param('instanceId', InstanceIdPipe) id: string,
    @Body() dto: SnoozeDto,
  ): Promise<SnoozeResponseDto> {
    return this.autoStop.snooze(id, dto.minutes);
  }
}
