import { Body, Controller, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponses, ApiOptionalBody } from '../../common/http/api-error-responses.decorator';
import { ApiIdempotencyKeyHeader, IdempotencyKey } from './dto/idempotency-key.decorator';
import { ApiInstanceIdParam } from './dto/instance-id.pipe';
import { CreateInstanceDto } from './dto/create-instance.dto';
import { InstanceIdPipe } from './dto/instance-id.pipe';
import {
  ComprehensiveListResponseDto,
  CreateInstanceResponseDto,
  InstanceListResponseDto,
  InstanceResponseDto,
  LastUsedResponseDto,
  StopAllResponseDto,
} from './dto/instance-response.dto';
import { UpdateLastUsedDto } from './dto/last-used.dto';
import { ComprehensiveQuery, ListInstancesQuery } from './dto/list-instances.query';
import { InstanceCreateService } from './instance-create.service';
import { InstanceQueryService } from './instance-query.service';
import { InstanceResolver } from './instance-resolver';
import { InstanceUsageService } from './instance-usage.service';
import { IdleDeadlines } from '../records/idle-deadlines';

/** Create, read, last-used and stop-all. Static paths are declared before ":instanceId". */
@ApiTags('instances')
@Controller('api/instances')
export class InstancesController {
  constructor(
    private readonly creator: InstanceCreateService,
    private readonly query: InstanceQueryService,
    private readonly usage: InstanceUsageService,
    private readonly resolver: InstanceResolver,
    private readonly idle: IdleDeadlines,
  ) {}

  /**
   * Creates an instance in the first region (preferred, then fallback order) with capacity, at the lowest
   * price, and opens a create operation that follows it to ready. 404 for an unknown template or product,
   * 409 when the name is taken, 503 INSUFFICIENT_RESOURCES when no region has capacity.
   */
  @Post()
  @HttpCode(201)
  @ApiCreatedResponse({
    type: CreateInstanceResponseDto,
    description: 'Created on Novita; the create operation follows it to ready',
  })
  @ApiIdempotencyKeyHeader()
  @ApiErrorResponses(400, 401, 404, 409, 413, 415, 429, 502, 503, 504)
  createInstance(
    @Body() dto: CreateInstanceDto,
    @IdempotencyKey() idempotencyKey?: string,
  ): Promise<CreateInstanceResponseDto> {
    this.idle.assertAllowed(dto.autoStop);
    return this.creator.create(dto, idempotencyKey);
  }

  /**
   * Instances from the store by creation time (newest first unless order=asc), paged by cursor or
   * offset, filtered by status, managed and name; deleted ones only when filtered by status=deleted.
   * A page reads only its own records, however many instances there are.
   */
  @Get()
  @ApiOkResponse({ type: InstanceListResponseDto, description: 'One page of instances' })
  @ApiErrorResponses(400, 401, 429, 503)
  listInstances(@Query() query: ListInstancesQuery): Promise<InstanceListResponseDto> {
    return this.query.list(query);
  }

  /** Local records merged with Novita's listing; Novita down means local records with novitaAvailable=false. */
  @Get('comprehensive')
  @ApiOkResponse({ type: ComprehensiveListResponseDto, description: 'Local and Novita instances merged' })
  @ApiErrorResponses(400, 401, 404, 429, 503)
  listInstancesComprehensive(@Query() query: ComprehensiveQuery): Promise<ComprehensiveListResponseDto> {
    return this.query.comprehensive(query);
  }

  /** Stops every managed instance that is running, ready or starting; per-instance failures are in the results. */
  @Post('stop-all')
  @ApiOkResponse({ type: StopAllResponseDto, description: 'One result per instance' })
  @ApiErrorResponses(400, 401, 413, 415, 429, 503)
  @HttpCode(200)
  stopAllInstances(): Promise<StopAllResponseDto> {
    return this.usage.stopAll();
  }

  /** One instance by our id or the Novita id, from the store; `stale: true` (with `ageMs`) while a refresh from Novita runs in the background. */
  @Get(':instanceId')
  @ApiOkResponse({ type: InstanceResponseDto, description: 'The instance' })
  @ApiInstanceIdParam()
  @ApiErrorResponses(400, 401, 404, 429, 503)
  getInstance(@Param('instanceId', InstanceIdPipe) id: string): Promise<InstanceResponseDto> {
    return this.query.get(id);
  }

  /** Usage heartbeat: moves the auto-stop idle deadline to lastUsedAt + threshold. */
  @Put(':instanceId/last-used')
  @ApiOptionalBody(UpdateLastUsedDto)
  @ApiOkResponse({ type: LastUsedResponseDto, description: 'The new idle deadline' })
  @ApiInstanceIdParam()
  @ApiErrorResponses(400, 401, 404, 409, 413, 415, 429, 503)
  async updateLastUsed(
    @Param('instanceId', InstanceIdPipe) id: string,
    @Body() dto: UpdateLastUsedDto,
  ): Promise<LastUsedResponseDto> {
    return this.usage.updateLastUsed(await this.resolver.byId(id), dto.lastUsedAt);
  }
}
