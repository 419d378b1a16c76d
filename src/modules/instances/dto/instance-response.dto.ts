import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ApiDecimal, ApiInt } from '../../../common/http/api-number.decorators';
import { INSTANCE_STATUSES, InstanceStatus } from '../../records/instance.types';

/** Response shapes (documented by Swagger). Built by instance.mapper.ts, never by spreading records. */

export class PortMappingDto {
  @ApiInt()
  port!: number;
  /** Public address Novita assigned (a URL for http ports). */
  endpoint!: string;
  type!: string;
}

/** Named classes rather than inline object types: an all-optional inline type renders as `required: []`, invalid OpenAPI 3.0. */
export class ReadinessTargetDto {
  /** Container port probed; absent means the first http port mapping. */
  @ApiInt()
  port?: number;
  path!: string;
  @ApiInt()
  timeoutMs!: number;
}

export class ReadinessCheckResultDto {
  at!: string;
  endpoint!: string;
  ok!: boolean;
  @ApiInt()
  httpStatus?: number;
  error?: string;
}

export class CodedErrorDto {
  code!: string;
  message!: string;
}

export class LastErrorDto {
  code!: string;
  message!: string;
  at!: string;
}

export class NovitaStatusErrorDto {
  /** Novita's statusError.state. */
  state?: string;
  message?: string;
}

export class SourceCountsDto {
  @ApiInt()
  local!: number;
  @ApiInt()
  novita!: number;
  @ApiInt()
  merged!: number;
}

export class OperationResponseDto {
  operationId!: string;
  @ApiProperty({ enum: ['create', 'start', 'stop', 'migrate'] }) kind!: string;
  @ApiProperty({
    enum: [
      'intent',
      'migrating',
      'recreating',
      'waiting_running',
      'readiness',
      'waiting_stopped',
      'succeeded',
      'failed',
      'cancelled',
    ],
  })
  phase!: string;
  instanceId!: string;
  deadline!: string;
  @ApiInt()
  attempts!: number;
  readiness!: ReadinessTargetDto;
  createdAt!: string;
  updatedAt!: string;
  lastCheck?: ReadinessCheckResultDto;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  result?: Record<string, unknown>;
  error?: CodedErrorDto;
}

export class InstanceResponseDto {
  /** Our id (same as instanceId; kept for clients of the previous API). */
  id!: string;
  instanceId!: string;
  name!: string;
  novitaInstanceId!: string | null;
  @ApiProperty({ enum: INSTANCE_STATUSES }) status!: InstanceStatus;
  /** Novita's raw status. */
  novitaStatus!: string | null;
  @ApiProperty({ enum: ['pending', 'passed', 'skipped', 'failed'], nullable: true }) readiness!:
    string | null;
  /** true for instances this service created; false for Novita-only ones. */
  managed!: boolean;
  @ApiProperty({ enum: ['local', 'novita', 'merged'] }) source!: 'local' | 'novita' | 'merged';
  region!: string | null;
  clusterId!: string | null;
  productId!: string | null;
  productName!: string;
  billingMode!: string;
  /** USD per hour for the whole instance. */
  @ApiDecimal({ nullable: true })
  price!: number | null;
  @ApiInt()
  gpuNum!: number;
  portMappings!: PortMappingDto[];
  webhookUrl!: string | null;
  activeOperationId!: string | null;
  @ApiProperty({ type: LastErrorDto, nullable: true })
  lastError!: LastErrorDto | null;
  @ApiProperty({ type: NovitaStatusErrorDto, nullable: true })
  statusError!: NovitaStatusErrorDto | null;
  spotStatus!: string | null;
  createdAt!: string | null;
  updatedAt!: string | null;
  lastSyncedAt!: string | null;
  startedAt!: string | null;
  readyAt!: string | null;
  stoppedAt!: string | null;
  lastUsedAt!: string | null;
  deletedAt!: string | null;
  /**
   * GET by id: true when this is the stored state, last observed INSTANCE_CACHE_STALE_MS or more ago
   * (or never), while a refresh from Novita runs in the background; also true when Novita could not
   * be reached. Comprehensive listing: true when Novita could not be reached.
   */
  stale?: boolean;
  /** GET by id: milliseconds since the status was observed from Novita (lastSyncedAt); null when never. */
  @ApiInt({ required: false, nullable: true })
  ageMs?: number | null;
}

export class RegionAttemptDto {
  region!: string;
  @ApiProperty({ enum: ['used', 'skipped'] }) outcome!: 'used' | 'skipped';
  reason!: string;
}

export class CreateInstanceResponseDto {
  instanceId!: string;
  novitaInstanceId!: string;
  name!: string;
  @ApiProperty({ enum: INSTANCE_STATUSES }) status!: InstanceStatus;
  novitaStatus!: string | null;
  message!: string;
  region!: string;
  clusterId!: string;
  regionAttempts!: RegionAttemptDto[];
  productId!: string;
  productName!: string;
  billingMode!: string;
  /** USD per hour for the whole instance (pricePerGpu x gpuNum). */
  @ApiDecimal()
  price!: number;
  @ApiDecimal()
  pricePerGpu!: number;
  /** Kept for clients of the previous API: the spot price per GPU-hour when billing is spot. */
  @ApiDecimal({ nullable: true })
  spotPrice!: number | null;
  @ApiInt()
  gpuNum!: number;
  createdAt!: string;
  operationId!: string;
  operation!: OperationResponseDto;
}

export class OperationAcceptedResponseDto {
  instanceId!: string;
  novitaInstanceId!: string | null;
  name!: string;
  @ApiProperty({ enum: INSTANCE_STATUSES }) status!: InstanceStatus;
  novitaStatus!: string | null;
  message!: string;
  operationId!: string | null;
  operation!: OperationResponseDto | null;
}

export class InstanceListResponseDto {
  instances!: InstanceResponseDto[];
  /**
   * Matches before pagination. With status=deleted it may count instances whose record expired in
   * the last hour (until the index job or a page passes over them).
   */
  @ApiInt()
  total!: number;
  @ApiInt()
  limit!: number;
  /** Instances skipped before this page; 0 when paged by cursor. */
  @ApiInt()
  offset!: number;
  /** 1-based page number of this page; 1 when paged by cursor. */
  @ApiInt()
  page!: number;
  @ApiInt()
  pageSize!: number;
  /** The creation-time order of the list: desc (newest first) or asc. */
  @ApiProperty({ enum: ['asc', 'desc'] })
  order!: 'asc' | 'desc';
  /** Pass as cursor to get the next page; null on the last page. */
  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}

export class ComprehensiveListResponseDto {
  instances!: InstanceResponseDto[];
  @ApiInt()
  total!: number;
  sources!: SourceCountsDto;
  /** false when Novita could not be reached: only local records are listed. */
  novitaAvailable!: boolean;
  novitaError?: CodedErrorDto;
}

export class LastUsedResponseDto {
  instanceId!: string;
  lastUsedAt!: string;
  /**
   * When auto-stop will act on the instance if no other heartbeat arrives (lastUsedAt + the
   * instance's idleMinutes); null when auto-stop does not apply (unmanaged, disabled, not running).
   */
  idleDeadline!: string | null;
  message!: string;
}

export class StopAllResultDto {
  instanceId!: string;
  name!: string;
  success!: boolean;
  status?: string;
  error?: CodedErrorDto;
}

export class StopAllResponseDto {
  success!: boolean;
  message!: string;
  @ApiInt()
  count!: number;
  @ApiInt()
  succeeded!: number;
  @ApiInt()
  failed!: number;
  results!: StopAllResultDto[];
  timestamp!: string;
}
