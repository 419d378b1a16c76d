import { Body, Controller, Get, Headers, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiHeader, ApiTags } from '@nestjs/swagger';
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

  /** Creates an instance in the first region (preferred, then fallback order) with capacity, at the lowest price. */
  @Post()
  @HttpCode(201)
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'Repeats with the same key return the first result',
  })
  createInstance(
    @Body() dto: CreateInstanceDto,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<CreateInstanceResponseDto> {
    this.idle.assertAllowed(dto.autoStop);
    return this.creator.create(dto, idempotencyKey);
  }

  /** Managed instances from the store (deleted ones only when filtered by status=deleted). */
  @Get()
  listInstances(@Query() query: ListInstancesQuery): Promise<InstanceListResponseDto> {
    return this.query.list(query);
  }

  /** Local records merged with Novita's listing; Novita down means local records with novitaAvailable=false. */
  @Get('comprehensive')
  listInstancesComprehensive(@Query() query: ComprehensiveQuery): Promise<ComprehensiveListResponseDto> {
    return this.query.comprehensive(query);
  }

  /** Stops every managed instance that is running, ready or starting. */
  @Post('stop-all')
  @HttpCode(200)
  stopAllInstances(): Promise<StopAllResponseDto> {
    return this.usage.stopAll();
  }

  /** One instance by our id or the Novita id; `stale: true` when Novita could not be asked. */
  @Get(':instanceId')
  getInstance(@Param('instanceId', InstanceIdPipe) id: string): Promise<InstanceResponseDto> {
    return this.query.get(id);
  }

  /** Usage heartbeat: moves the auto-stop idle deadline to lastUsedAt + threshold. */
  @Put(':instanceId/last-used')
  async updateLastUsed(
    @Param('instanceId', InstanceIdPipe) id: string,
    @Body() dto: UpdateLastUsedDto,
  ): Promise<LastUsedResponseDto> {
    return this.usage.updateLastUsed(await this.resolver.byId(id), dto.lastUsedAt);
  }
}
