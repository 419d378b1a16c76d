import { Body, Controller, Delete, HttpCode, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponses, ApiOptionalBody } from '../../common/http/api-error-responses.decorator';
import {
  AdoptInstanceDto,
  InstanceActionDto,
  InstanceByNameActionDto,
  StartByNameDto,
  StartInstanceDto,
} from './dto/instance-action.dto';
import { ApiInstanceIdParam, InstanceIdPipe } from './dto/instance-id.pipe';
import { InstanceResponseDto, OperationAcceptedResponseDto } from './dto/instance-response.dto';
import { InstanceUsageService } from './instance-usage.service';
import { InstanceLifecycleService } from './instance-lifecycle.service';
import { InstanceResolver } from './instance-resolver';

/** Start, stop and delete, by id and by name. The by-name paths are static, so they come first. */
@ApiTags('instances')
@Controller('api/instances')
export class InstanceActionsController {
  constructor(
    private readonly lifecycle: InstanceLifecycleService,
    private readonly resolver: InstanceResolver,
    private readonly usage: InstanceUsageService,
  ) {}

  /** Starts the named instance; 202 with the operation that follows it to ready. */
  @Post('start')
  @HttpCode(202)
  @ApiAcceptedResponse({
    type: OperationAcceptedResponseDto,
    description: 'Start accepted; follow the operation',
  })
  @ApiErrorResponses(400, 401, 404, 409, 413, 415, 429, 502, 503, 504)
  async startInstanceByName(@Body() dto: StartByNameDto): Promise<OperationAcceptedResponseDto> {
    return this.lifecycle.start(await this.resolver.byName(dto.instanceName), dto);
  }

  /** Stops the named instance (idempotent: already stopped or stopping answers 200 with the current state). */
  @Post('stop')
  @HttpCode(200)
  @ApiOkResponse({ type: OperationAcceptedResponseDto, description: 'Stop accepted, or already stopped' })
  @ApiErrorResponses(400, 401, 404, 409, 413, 415, 429, 502, 503, 504)
  async stopInstanceByName(@Body() dto: InstanceByNameActionDto): Promise<OperationAcceptedResponseDto> {
    return this.lifecycle.stop(await this.resolver.byName(dto.instanceName), dto);
  }

  /** Deletes the named instance on Novita and frees its name. */
  @Post('delete')
  @HttpCode(200)
  @ApiOkResponse({ type: OperationAcceptedResponseDto, description: 'Delete accepted' })
  @ApiErrorResponses(400, 401, 404, 409, 413, 415, 429, 502, 503, 504)
  async deleteInstanceByName(@Body() dto: InstanceByNameActionDto): Promise<OperationAcceptedResponseDto> {
    return this.lifecycle.delete(await this.resolver.byName(dto.instanceName), dto);
  }

  /** Starts the instance; 202 with the operation that follows it to ready. The body is optional. */
  @Post(':instanceId/start')
  @HttpCode(202)
  @ApiOptionalBody(StartInstanceDto)
  @ApiAcceptedResponse({
    type: OperationAcceptedResponseDto,
    description: 'Start accepted; follow the operation',
  })
  @ApiInstanceIdParam()
  @ApiErrorResponses(400, 401, 404, 409, 413, 415, 429, 502, 503, 504)
  async startInstance(
    @Param('instanceId', InstanceIdPipe) id: string,
    @Body() dto: StartInstanceDto = {},
  ): Promise<OperationAcceptedResponseDto> {
    return this.lifecycle.start(await this.resolver.byId(id), dto ?? {});
  }

  /** Stops the instance. Idempotent: already stopped or stopping answers 200 with the current state. The body is optional. */
  @Post(':instanceId/stop')
  @HttpCode(200)
  @ApiOptionalBody(InstanceActionDto)
  @ApiOkResponse({ type: OperationAcceptedResponseDto, description: 'Stop accepted, or already stopped' })
  @ApiInstanceIdParam()
  @ApiErrorResponses(400, 401, 404, 409, 413, 415, 429, 502, 503, 504)
  async stopInstance(
    @Param('instanceId', InstanceIdPipe) id: string,
    @Body() dto: InstanceActionDto = {},
  ): Promise<OperationAcceptedResponseDto> {
    return this.lifecycle.stop(await this.resolver.byId(id), dto ?? {});
  }

  /**
   * Brings an instance sync found on Novita (managed: false) under management: auto-stop and spot
   * recovery then apply to it. The body is optional.
   */
  @Post(':instanceId/adopt')
  @HttpCode(200)
  @ApiOptionalBody(AdoptInstanceDto)
  @ApiOkResponse({ type: InstanceResponseDto, description: 'The instance, now managed' })
  @ApiInstanceIdParam()
  @ApiErrorResponses(400, 401, 404, 409, 413, 415, 429, 503)
  async adoptInstance(
    @Param('instanceId', InstanceIdPipe) id: string,
    @Body() dto: AdoptInstanceDto = {},
  ): Promise<InstanceResponseDto> {
    return this.usage.adopt(await this.resolver.byId(id), dto ?? {});
  }

  /** Deletes the instance on Novita and frees its name. The body is optional. */
  @Delete(':instanceId')
  @HttpCode(200)
  @ApiOptionalBody(InstanceActionDto)
  @ApiOkResponse({ type: OperationAcceptedResponseDto, description: 'Delete accepted' })
  @ApiInstanceIdParam()
  @ApiErrorResponses(400, 401, 404, 409, 413, 415, 429, 502, 503, 504)
  async deleteInstance(
    @Param('instanceId', InstanceIdPipe) id: string,
    @Body() dto: InstanceActionDto = {},
  ): Promise<OperationAcceptedResponseDto> {
    return this.lifecycle.delete(await this.resolver.byId(id), dto ?? {});
  }
}
