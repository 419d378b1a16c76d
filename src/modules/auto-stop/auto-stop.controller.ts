import { Body, Controller, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { InstanceIdPipe } from '../instances/dto/instance-id.pipe';
import { AutoStopService } from './auto-stop.service';
import {
  AutoStopErrorResponseDto,
  AutoStopPolicyDto,
  AutoStopStatsDto,
  InstanceAutoStopResponseDto,
  SnoozeDto,
  SnoozeResponseDto,
  TriggerAutoStopDto,
  TriggerResponseDto,
} from './dto/auto-stop.dto';

const ID_PARAM = { name: 'instanceId', description: 'Our instance id or the Novita id' };
const UNAUTHORIZED = { status: 401, description: 'Missing or wrong API key', type: AutoStopErrorResponseDto };

/**
 * Auto-stop: stats and the manual trigger (static paths), per-instance policy and snooze. Its module
 * is imported before InstancesModule so the static paths are registered before ":instanceId" routes.
 */
@ApiTags('auto-stop')
@ApiSecurity('apiKey')
@Controller('api/instances')
export class AutoStopController {
  constructor(private readonly autoStop: AutoStopService) {}

  @Get('auto-stop/stats')
  @ApiOperation({
    summary: 'Auto-stop settings, tracked instances and totals',
    description:
      'Settings in force, how many instances have an idle deadline, how many are due, the next deadline, the last pass that did something, and totals (stopped, deleted, warnings, errors, GPU-hours and dollars saved) kept in the store for all replicas.',
  })
  @ApiResponse({ status: 200, type: AutoStopStatsDto })
  @ApiResponse(UNAUTHORIZED)
  getAutoStopStats(): Promise<AutoStopStatsDto> {
    return this.autoStop.stats();
  }

  @Post('auto-stop/trigger')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Run one auto-stop pass now',
    description:
      'dryRun=true (or AUTO_STOP_DRY_RUN=true) lists the instances a pass would stop or delete now and why, decided from the store: no Novita call, no change. Otherwise one real pass runs on this replica and its result is returned.',
  })
  @ApiBody({ type: TriggerAutoStopDto, required: false })
  @ApiResponse({ status: 200, type: TriggerResponseDto })
  @ApiResponse({ status: 400, description: 'Invalid body', type: AutoStopErrorResponseDto })
  @ApiResponse(UNAUTHORIZED)
  @ApiResponse({
    status: 404,
    description: 'FEATURE_DISABLED: AUTO_STOP_ENABLED=false and dryRun was not set',
    type: AutoStopErrorResponseDto,
  })
  @ApiResponse({
    status: 409,
    description: 'OPERATION_IN_PROGRESS: a pass is already running on this replica',
    type: AutoStopErrorResponseDto,
  })
  triggerAutoStop(@Body() dto: TriggerAutoStopDto = {}): Promise<TriggerResponseDto> {
    return this.autoStop.trigger(dto?.dryRun === true);
  }

  @Get(':instanceId/auto-stop')
  @ApiOperation({ summary: "An instance's idle policy and deadline" })
  @ApiParam(ID_PARAM)
  @ApiResponse({ status: 200, type: InstanceAutoStopResponseDto })
  @ApiResponse({ status: 400, description: 'Invalid instance id', type: AutoStopErrorResponseDto })
  @ApiResponse(UNAUTHORIZED)
  @ApiResponse({ status: 404, description: 'No such instance', type: AutoStopErrorResponseDto })
  getAutoStopPolicy(@Param('instanceId', InstanceIdPipe) id: string): Promise<InstanceAutoStopResponseDto> {
    return this.autoStop.get(id);
  }

  @Put(':instanceId/auto-stop')
  @ApiOperation({
    summary: "Change an instance's idle policy",
    description:
      'Fields left out keep their value. The idle deadline follows: last activity + the new idleMinutes, or cleared when disabled. Bounds: AUTO_STOP_MIN_IDLE_MINUTES, AUTO_STOP_MAX_IDLE_MINUTES, AUTO_STOP_ALLOW_DISABLE.',
  })
  @ApiParam(ID_PARAM)
  @ApiResponse({ status: 200, type: InstanceAutoStopResponseDto })
  @ApiResponse({
    status: 400,
    description:
      'VALIDATION_ERROR: invalid field, or outside the operator bounds (the message names the bound)',
    type: AutoStopErrorResponseDto,
  })
  @ApiResponse(UNAUTHORIZED)
  @ApiResponse({ status: 404, description: 'No such instance', type: AutoStopErrorResponseDto })
  @ApiResponse({
    status: 409,
    description: 'OPERATION_IN_PROGRESS: the instance is locked by another request',
    type: AutoStopErrorResponseDto,
  })
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
      'Moves the deadline by `minutes` from the later of the current deadline and now. The new deadline may lie at most AUTO_STOP_MAX_IDLE_MINUTES from now.',
  })
  @ApiParam(ID_PARAM)
  @ApiResponse({ status: 200, type: SnoozeResponseDto })
  @ApiResponse({
    status: 400,
    description:
      'VALIDATION_ERROR: invalid minutes, or past AUTO_STOP_MAX_IDLE_MINUTES (named in the message)',
    type: AutoStopErrorResponseDto,
  })
  @ApiResponse(UNAUTHORIZED)
  @ApiResponse({ status: 404, description: 'No such instance', type: AutoStopErrorResponseDto })
  @ApiResponse({
    status: 409,
    description: 'INVALID_STATE: the instance has no idle deadline (not running, unmanaged or disabled)',
    type: AutoStopErrorResponseDto,
  })
  snoozeAutoStop(
    @Param('instanceId', InstanceIdPipe) id: string,
    @Body() dto: SnoozeDto,
  ): Promise<SnoozeResponseDto> {
    return this.autoStop.snooze(id, dto.minutes);
  }
}
