import { InstanceRecord } from '../records/instance.types';
import { toOperationResponse } from '../records/instance.mapper';
import { OperationRecord } from '../records/operation.types';
import { CreateInstanceResponseDto, RegionAttemptDto } from './dto/instance-response.dto';

/**
 * The 201 body of a create, from the record and its operation. Also built by the reconciler when it
 * settles a create whose caller died, to answer that request's Idempotency-Key.
 */
export function toCreateResponse(
  record: InstanceRecord,
  op: OperationRecord,
  extra: { regionAttempts: RegionAttemptDto[]; pricePerGpu: number | null; spotPrice: number | null },
): CreateInstanceResponseDto {
  return {
    instanceId: record.id,
    novitaInstanceId: record.novitaInstanceId ?? op.novitaInstanceId,
    name: record.name,
    status: record.status,
    novitaStatus: record.novitaStatus,
    message: `Instance creation started in ${record.region}; follow operation ${op.id} to ready`,
    region: record.region ?? '',
    clusterId: record.clusterId ?? '',
    regionAttempts: extra.regionAttempts,
    productId: record.productId ?? '',
    productName: record.productName,
    billingMode: record.billingMode,
    price: record.price as number,
    pricePerGpu: extra.pricePerGpu as number,
    spotPrice: extra.spotPrice,
    gpuNum: record.gpuNum,
    createdAt: record.createdAt,
    operationId: op.id,
    operation: toOperationResponse(op),
  };
}
