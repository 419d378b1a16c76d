import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppError, ErrorCode, isAppError } from '../../common/errors';
import { AllConfig, InstancesConfig } from '../../config/config.types';
import { NovitaClient } from '../../infra/novita/novita-client';
import { BillingMode } from '../../infra/novita/novita.types';
import { CreateInstanceDto } from './dto/create-instance.dto';
import { CreateInstanceResponseDto, RegionAttemptDto } from './dto/instance-response.dto';
import { IdempotencyService, fingerprintOf } from './idempotency.service';
import { InstanceEvents } from '../records/instance-events';
import { toOperationResponse } from '../records/instance.mapper';
import { InstanceRepository } from '../records/instance.repository';
import { InstanceRecord, InstanceSpec } from '../records/instance.types';
import { ImageSpec, NovitaCatalogService } from './novita-catalog.service';
import { buildOperation, healthCheckFromRequest, resolveHealthCheck } from '../records/operation.factory';
import { OperationRepository } from '../records/operation.repository';
import { RegionCandidate, buildRegionOrder, planProductSelection } from './product-selection.policy';

export const newInstanceId = (): string => `inst_${randomUUID().replace(/-/g, '').slice(0, 20)}`;

/** Novita said no (a 4xx): nothing was created, so the name and any idempotency key can be freed. */
const REJECTED_BY_NOVITA = new Set<ErrorCode>([
  ErrorCode.INSUFFICIENT_RESOURCES,
  ErrorCode.UPSTREAM_BAD_REQUEST,
  ErrorCode.UNAUTHORIZED_UPSTREAM,
  ErrorCode.RATE_LIMITED,
  ErrorCode.INVALID_STATE,
  ErrorCode.NOT_FOUND,
  ErrorCode.VALIDATION_ERROR,
]);

/** Marks an error after which it is unknown whether Novita created the instance. */
class AmbiguousCreateError extends AppError {}

const round = (n: number): number => Math.round(n * 100_000) / 100_000;

/**
 * POST /api/instances: picks the cheapest product with capacity region by region, creates it on
 * Novita, and opens a 'create' operation the reconciler follows to running and ready.
 */
@Injectable()
export class InstanceCreateService {
  private readonly logger = new Logger(InstanceCreateService.name);
  private readonly config: InstancesConfig;

  constructor(
    private readonly repo: InstanceRepository,
    private readonly operations: OperationRepository,
    private readonly novita: NovitaClient,
    private readonly catalog: NovitaCatalogService,
    private readonly events: InstanceEvents,
    private readonly idempotency: IdempotencyService,
    configService: ConfigService<AllConfig, true>,
  ) {
    this.config = configService.get('instances', { infer: true });
  }

  async create(dto: CreateInstanceDto, idempotencyKey?: string): Promise<CreateInstanceResponseDto> {
    this.events.assertUrlAllowed(dto.webhookUrl);
    if (idempotencyKey === undefined) return this.createOnce(dto, async () => undefined);
    const result = await this.idempotency.execute<CreateInstanceResponseDto>({
      scope: 'create-instance',
      key: idempotencyKey,
      fingerprint: fingerprintOf(dto),
      work: async (note) => ({ status: 201, body: await this.createOnce(dto, note) }),
      release: (err) => !(err instanceof AmbiguousCreateError),
    });
    return result.body;
  }

  private async createOnce(
    dto: CreateInstanceDto,
    note: (instanceId: string) => Promise<void>,
  ): Promise<CreateInstanceResponseDto> {
    const image = await this.catalog.resolveImage(dto);
    const spec = this.specOf(dto, image);
    const record = await this.reserve(dto, spec);
    await note(record.id);

    let created: { novitaId: string; candidate: RegionCandidate; attempts: RegionAttemptDto[] };
    try {
      created = await this.createInFirstRegionWithCapacity(dto.name, spec, image);
    } catch (err) {
      if (err instanceof AmbiguousCreateError) {
        // Novita may have created it: keep the record (and its name) as failed, for the operator and sync to settle.
        const at = new Date().toISOString();
        await this.repo.save({
          ...record,
          status: 'failed',
          lastError: { code: err.code, message: err.message, at },
          updatedAt: at,
        });
      } else {
        await this.repo.remove(record);
      }
      await this.events.emitSafely('instance.creation_failed', record, {
        dedupeKey: `${record.id}:creation_failed`,
        reason: err instanceof Error ? err.message : String(err),
      });
      throw err;
    }
    return this.open(record, dto, created);
  }

  private specOf(dto: CreateInstanceDto, image: ImageSpec): InstanceSpec {
    return {
      productName: dto.productName,
      templateId: dto.templateId,
      imageUrl: image.imageUrl,
      imageAuthId: image.imageAuthId,
      ports: image.ports,
      envs: image.envs,
      command: image.command,
      gpuNum: dto.gpuNum ?? 1,
      rootfsSize: dto.rootfsSize ?? image.rootfsSize ?? this.config.defaultRootfsSizeGb,
      billingMode: (dto.billingMode ?? this.config.defaultBillingMode) as BillingMode,
      preferredRegion: (dto.region ?? this.config.defaultRegion).toUpperCase(),
    };
  }

  /** Claims the name with a 'creating' record before Novita is called, so two creates cannot both pass. */
  private reserve(dto: CreateInstanceDto, spec: InstanceSpec): Promise<InstanceRecord> {
    const at = new Date().toISOString();
    const record: InstanceRecord = {
      id: newInstanceId(),
      name: dto.name,
      novitaInstanceId: null,
      status: 'creating',
      novitaStatus: null,
      readiness: null,
      spec,
      region: null,
      clusterId: null,
      productId: null,
      productName: dto.productName,
      billingMode: spec.billingMode,
      price: null,
      gpuNum: spec.gpuNum,
      portMappings: [],
      webhookUrl: dto.webhookUrl ?? null,
      healthCheck: healthCheckFromRequest(dto),
      // Auto-stop hook: the requested idle policy (bounds were checked by the controller).
      autoStop: dto.autoStop ?? null,
      activeOperationId: null,
      lastError: null,
      statusError: null,
      spotStatus: null,
      createdAt: at,
      updatedAt: at,
      lastSyncedAt: null,
      startedAt: null,
      readyAt: null,
      stoppedAt: null,
      lastUsedAt: null,
      deletedAt: null,
    };
    return this.repo.withNameLock(dto.name, async () => {
      const claim = await this.repo.claimName(dto.name, record.id);
      if (!claim.claimed) {
        throw new AppError(ErrorCode.NAME_TAKEN, `An instance named ${dto.name} already exists`, {
          name: dto.name,
          instanceId: claim.holder.id,
        });
      }
      return this.repo.save(record);
    });
  }

  private async createInFirstRegionWithCapacity(
    name: string,
    spec: InstanceSpec,
    image: ImageSpec,
  ): Promise<{ novitaId: string; candidate: RegionCandidate; attempts: RegionAttemptDto[] }> {
    const [products, clusters] = await Promise.all([
      this.novita.listProducts({
        productName: spec.productName,
        billingMethod: spec.billingMode,
        gpuNum: spec.gpuNum,
      }),
      this.catalog.clusters(),
    ]);
    const regions = buildRegionOrder(spec.preferredRegion, this.config.regionFallbackOrder);
    const plan = planProductSelection({ ...spec, regions, products, clusters });
    const attempts: RegionAttemptDto[] = [];
    for (const entry of plan) {
      if (!entry.candidate) {
        attempts.push({ region: entry.region, outcome: 'skipped', reason: entry.reason });
        continue;
      }
      const c = entry.candidate;
      try {
        const { id } = await this.novita.createInstance({
          name,
          productId: c.product.id,
          clusterId: c.clusterId,
          gpuNum: spec.gpuNum,
          rootfsSize: spec.rootfsSize,
          imageUrl: spec.imageUrl,
          ...(image.imageAuth
            ? { imageAuth: image.imageAuth }
            : spec.imageAuthId
              ? { imageAuthId: spec.imageAuthId }
              : {}),
          ports: spec.ports,
          envs: spec.envs,
          command: spec.command,
          billingMode: spec.billingMode,
          kind: 'gpu',
        });
        attempts.push({
          region: entry.region,
          outcome: 'used',
          reason: `cheapest ${spec.billingMode} product with capacity: ${c.product.id}`,
        });
        return { novitaId: id, candidate: c, attempts };
      } catch (err) {
        if (isAppError(err) && err.code === ErrorCode.INSUFFICIENT_RESOURCES) {
          attempts.push({
            region: entry.region,
            outcome: 'skipped',
            reason: `Novita answered insufficient resources for ${c.product.id}`,
          });
          continue;
        }
        if (isAppError(err) && REJECTED_BY_NOVITA.has(err.code)) throw err;
        const e = isAppError(err)
          ? err
          : new AppError(ErrorCode.INTERNAL_ERROR, 'Unexpected failure creating the instance');
        throw new AmbiguousCreateError(
          e.code,
          `${e.message} (the instance may or may not have been created on Novita)`,
          {
            ...e.details,
            region: entry.region,
            regionAttempts: attempts,
          },
        );
      }
    }
    throw new AppError(
      ErrorCode.INSUFFICIENT_RESOURCES,
      `No capacity for ${spec.productName} (${spec.billingMode}) in any region`,
      {
        productName: spec.productName,
        billingMode: spec.billingMode,
        regionAttempts: attempts,
      },
    );
  }

  private async open(
    reserved: InstanceRecord,
    dto: CreateInstanceDto,
    created: { novitaId: string; candidate: RegionCandidate; attempts: RegionAttemptDto[] },
  ): Promise<CreateInstanceResponseDto> {
    const now = Date.now();
    const at = new Date(now).toISOString();
    const { candidate: c } = created;
    const op = buildOperation({
      kind: 'create',
      phase: 'waiting_running',
      instanceId: reserved.id,
      novitaInstanceId: created.novitaId,
      settings: resolveHealthCheck(null, reserved.healthCheck, this.config),
      webhookUrl: null,
      now,
    });
    const record: InstanceRecord = {
      ...reserved,
      novitaInstanceId: created.novitaId,
      region: c.region,
      clusterId: c.clusterId,
      productId: c.product.id,
      productName: c.product.name,
      price: round(c.unitPrice * reserved.gpuNum),
      activeOperationId: op.id,
      updatedAt: at,
    };
    // Operation first: if we die before the record is saved, the reconciler still follows the instance.
    await this.operations.open(op, now);
    await this.repo.save(record);
    await this.events.emitSafely('instance.created', record, {
      dedupeKey: `${record.id}:created`,
      operation: op,
    });
    this.logger.log(
      {
        instanceId: record.id,
        novitaInstanceId: created.novitaId,
        region: c.region,
        productId: c.product.id,
      },
      'Instance created',
    );
    return {
      instanceId: record.id,
      novitaInstanceId: created.novitaId,
      name: record.name,
      status: record.status,
      novitaStatus: record.novitaStatus,
      message: `Instance creation started in ${c.region}; follow operation ${op.id} to ready`,
      region: c.region,
      clusterId: c.clusterId,
      regionAttempts: created.attempts,
      productId: c.product.id,
      productName: c.product.name,
      billingMode: record.billingMode,
      price: record.price!,
      pricePerGpu: round(c.unitPrice),
      spotPrice: record.billingMode === 'spot' ? c.product.spotPrice : null,
      gpuNum: record.gpuNum,
      createdAt: record.createdAt,
      operationId: op.id,
      operation: toOperationResponse(op),
    };
  }
}
