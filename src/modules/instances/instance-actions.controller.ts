import { Body, Controller, Delete, HttpCode, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  AdoptInstanceDto,
  InstanceActionDto,
  InstanceByNameActionDto,
  StartByNameDto,
  StartInstanceDto,
} from './dto/instance-action.dto';
import { InstanceIdPipe } from './dto/instance-id.pipe';
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
  async startInstanceByName(@Body() dto: StartByNameDto): Promise<OperationAcceptedResponseDto> {
    return this.lifecycle.start(await this.resolver.byName(dto.instanceName), dto);
  }

  /** Stops the named instance (idempotent). */
  @Post('stop')
  @HttpCode(200)
  async stopInstanceByName(@Body() dto: InstanceByNameActionDto): Promise<OperationAcceptedResponseDto> {
    return this.lifecycle.stop(await this.resolver.byName(dto.instanceName), dto);
  }

  /** Deletes the named instance. */
  @Post('delete')
  @HttpCode(200)
  async deleteInstanceByName(@Body() dto: InstanceByNameActionDto): Promise<OperationAcceptedResponseDto> {
    return this.lifecycle.delete(await this.resolver.byName(dto.instanceName), dto);
  }

  @Post(':instanceId/start')
  @HttpCode(202)
  async startInstance(
    @Param('instanceId', InstanceIdPipe) id: string,
    @Body() dto: StartInstanceDto = {},
  ): Promise<OperationAcceptedResponseDto> {
    return this.lifecycle.start(await this.resolver.byId(id), dto ?? {});
  }

  /** Idempotent: already stopped or stopping answers 200 with the current state. */
  @Post(':instanceId/stop')
  @HttpCode(200)
  async stopInstance(
    @Param('instanceId', InstanceIdPipe) id: string,
    @Body() dto: InstanceActionDto = {},
  ): Promise<OperationAcceptedResponseDto> {
    return this.lifecycle.stop(await this.resolver.byId(id), dto ?? {});
  }

  /** Brings an instance sync found on Novita (managed: false) under management: auto-stop and spot recovery then apply. */
  @Post(':instanceId/adopt')
  @HttpCode(200)
  async adoptInstance(
    @Param('instanceId', InstanceIdPipe) id: string,
    @Body() dto: AdoptInstanceDto = {},
  ): Promise<InstanceResponseDto> {
    return this.usage.adopt(await this.resolver.byId(id), dto ?? {});
  }

  @Delete(':instanceId')
  @HttpCode(200)
  async deleteInstance(
    @Param('instanceId', InstanceIdPipe) id: string,
    @Body() dto: InstanceActionDto = {},
  ): Promise<OperationAcceptedResponseDto> {
    return this.lifecycle.delete(await this.resolver.byId(id), dto ?? {});
  }
}
