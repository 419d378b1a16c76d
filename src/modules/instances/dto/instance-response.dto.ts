import { ApiProperty } from '@nestjs/swagger';
import { INSTANCE_STATUSES, InstanceStatus } from '../../records/instance.types';

/** Response shapes (documented by Swagger). Built by instance.mapper.ts, never by spreading records. */

export class PortMappingDto {
  port!: number;
  /** Public address Novita assigned (a URL for http ports). */
  endpoint!: string;
  type!: string;
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
  attempts!: number;
  readiness!: { port?: number; path: string; timeoutMs: number };
  createdAt!: string;
  updatedAt!: string;
  lastCheck?: { at: string; endpoint: string; ok: boolean; httpStatus?: number; error?: string };
  result?: Record<string, unknown>;
  error?: { code: string; message: string };
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
  price!: number | null;
  gpuNum!: number;
  portMappings!: PortMappingDto[];
  webhookUrl!: string | null;
  activeOperationId!: string | null;
  lastError!: { code: string; message: string; at: string } | null;
  statusError!: { state?: string; message?: string } | null;
  spotStatus!: string | null;
  createdAt!: string | null;
  updatedAt!: string | null;
  lastSyncedAt!: string | null;
  startedAt!: string | null;
  readyAt!: string | null;
  stoppedAt!: string | null;
  lastUsedAt!: string | null;
  deletedAt!: string | null;
  /** true when Novita could not be reached and this is the cached state. */
  stale?: boolean;
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
  price!: number;
  pricePerGpu!: number;
  /** Kept for clients of the previous API: the spot price per GPU-hour when billing is spot. */
  spotPrice!: number | null;
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
  /** Matches before pagination. */
  total!: number;
  limit!: number;
  offset!: number;
  page!: number;
  pageSize!: number;
}

export class ComprehensiveListResponseDto {
  instances!: InstanceResponseDto[];
  total!: number;
  sources!: { local: number; novita: number; merged: number };
  /** false when Novita could not be reached: only local records are listed. */
  novitaAvailable!: boolean;
  novitaError?: { code: string; message: string };
}

export class LastUsedResponseDto {
  instanceId!: string;
  lastUsedAt!: string;
  /** When auto-stop will consider the instance idle. */
  idleDeadline!: string;
  message!: string;
}

export class StopAllResultDto {
  instanceId!: string;
  name!: string;
  success!: boolean;
  status?: string;
  error?: { code: string; message: string };
}

export class StopAllResponseDto {
  success!: boolean;
  message!: string;
  count!: number;
  succeeded!: number;
  failed!: number;
  results!: StopAllResultDto[];
  timestamp!: string;
}
