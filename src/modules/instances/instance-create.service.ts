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
import { InstanceRepository } from '../records/instance.repository';
import { InstanceRecord, InstanceSpec, newInstanceId } from '../records/instance.types';
import { ImageSpec, NovitaCatalogService } from './novita-catalog.service';
import { buildOperation, healthCheckFromRequest, resolveHealthCheck } from '../records/operation.factory';
import { OperationRepository } from '../records/operation.repository';
import { OperationRecord } from '../records/operation.types';
import { toCreateResponse } from './create-response';
import { RegionCandidate, isUnknownProduct } from './product-selection.policy';

/** Novita said no (a 4xx): nothing was created, so the name and any idempotency key can be freed. */
const REJECTED_BY_NOVITA = new Set<ErrorCode>([
  ErrorCode.INSUFFICIENT_RESOURCES,
  ErrorCode.UPSTREAM_BAD_REQUEST,
  ErrorCode.UNAUTHORIZED_UPSTREAM,
  ErrorCode.UPSTREAM_RATE_LIMITED,
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

  private readonly createBudgetMs: number;

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
    // A create is never retried, so one attempt's timeout bounds the call (doubled for queueing).
    this.createBudgetMs = 2 * configService.get('novita', { infer: true }).timeoutMs + 2_000;
  }

  async create(dto: CreateInstanceDto, idempotencyKey?: string): Promise<CreateInstanceResponseDto> {
    this.events.assertUrlAllowed(dto.webhookUrl);
    if (idempotencyKey === undefined) return this.createOnce(dto, async () => undefined);
    const result = await this.idempotency.execute<CreateInstanceResponseDto>({
      scope: 'create-instance',
      key: idempotencyKey,
      fingerprint: fingerprintOf(dto),
      work: async (note, storeKey) => ({ status: 201, body: await this.createOnce(dto, note, storeKey) }),
      release: (err) => !(err instanceof AmbiguousCreateError),
      // The reconciler answers the key once it knows whether Novita created the instance.
      defer: (err) => err instanceof AmbiguousCreateError,
    });
    return result.body;
  }

  private async createOnce(
    dto: CreateInstanceDto,
    note: (instanceId: string) => Promise<void>,
    idempotencyKey?: string,
  ): Promise<CreateInstanceResponseDto> {
    const image = await this.catalog.resolveImage(dto);
    const spec = this.specOf(dto, image);
    const instanceId = newInstanceId();
    // Write-ahead: the intent exists before the name is claimed and before Novita is called, so a
    // kill at any later line leaves something the reconciler settles (adopt by name, or fail).
    let op = await this.openIntent(instanceId, dto, idempotencyKey);
    let record: InstanceRecord;
    try {
      record = await this.reserve(dto, spec, instanceId, op.id);
    } catch (err) {
      await this.operations.close({ ...op, phase: 'cancelled', updatedAt: new Date().toISOString() });
      throw err;
    }
    await note(record.id);

    let created: { novitaId: string; candidate: RegionCandidate; attempts: RegionAttemptDto[] };
    try {
      created = await this.createInFirstRegionWithCapacity(dto.name, spec, image, async () => {
        op = await this.extendIntent(op);
      });
    } catch (err) {
      if (err instanceof AmbiguousCreateError) {
        // Novita may have created it: the record keeps its name and the intent stays open; the
        // reconciler looks the name up on Novita and adopts the instance or fails the record.
        this.logger.warn(
          { instanceId: record.id, operationId: op.id },
          'Create outcome unknown; left to the reconciler',
        );
        throw err;
      }
      await this.operations.close({
        ...op,
        phase: 'failed',
        error: {
          code: isAppError(err) ? err.code : ErrorCode.INTERNAL_ERROR,
          message: String((err as Error).message),
        },
        updatedAt: new Date().toISOString(),
      });
      await this.repo.remove(record);
      // Nothing was created, so the request's webhook URL was never accepted for an instance: only the
      // global WEBHOOK_URL hears about the failure.
      await this.events.emitSafely(
        'instance.creation_failed',
        { ...record, webhookUrl: null },
        {
          dedupeKey: `${record.id}:creation_failed`,
          reason: err instanceof Error ? err.message : String(err),
        },
      );
      throw err;
    }
    return this.open(record, op, created);
  }

  private async openIntent(
    instanceId: string,
    dto: CreateInstanceDto,
    idempotencyKey?: string,
  ): Promise<OperationRecord> {
    const now = Date.now();
    const op = buildOperation({
      kind: 'create',
      phase: 'intent',
      instanceId,
      novitaInstanceId: '',
      settings: resolveHealthCheck(healthCheckFromRequest(dto), null, this.config),
      webhookUrl: null,
      now,
    });
    op.intent = {
      call: 'create',
      writtenAt: now,
      settleAfter: now + this.createBudgetMs,
      ...(idempotencyKey ? { idempotencyKey } : {}),
    };
    await this.operations.open(op, op.intent.settleAfter);
    return op;
  }

  /** Before each region's create call: the reconciler must not settle while that call can still answer. */
  private async extendIntent(op: OperationRecord): Promise<OperationRecord> {
    const now = Date.now();
    const next = { ...op, intent: { ...op.intent!, settleAfter: now + this.createBudgetMs } };
    await this.operations.update(next, next.intent.settleAfter);
    return next;
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
  private reserve(
    dto: CreateInstanceDto,
    spec: InstanceSpec,
    id: string,
    operationId: string,
  ): Promise<InstanceRecord> {
    const at = new Date().toISOString();
    const record: InstanceRecord = {
      id,
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
      // Auto-stop: the requested idle policy (bounds were checked by the controller).
      autoStop: dto.autoStop ?? null,
      activeOperationId: operationId,
      managed: true,
      origin: 'api',
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
    beforeCall: () => Promise<void>,
  ): Promise<{ novitaId: string; candidate: RegionCandidate; attempts: RegionAttemptDto[] }> {
    const { products, plan } = await this.catalog.planFor(spec, this.config.regionFallbackOrder);
    if (isUnknownProduct(products, spec.productName)) {
      // Not a capacity problem: no region would ever have it, so a 404 naming it rather than a 503.
      throw new AppError(
        ErrorCode.NOT_FOUND,
        `No GPU product matches productName "${spec.productName}" (${spec.billingMode}, ${spec.gpuNum} GPU)`,
        { productName: spec.productName, billingMode: spec.billingMode, gpuNum: spec.gpuNum },
      );
    }
    const attempts: RegionAttemptDto[] = [];
    for (const entry of plan) {
      if (!entry.candidate) {
        attempts.push({ region: entry.region, outcome: 'skipped', reason: entry.reason });
        continue;
      }
      const c = entry.candidate;
      await beforeCall();
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
    intent: OperationRecord,
    created: { novitaId: string; candidate: RegionCandidate; attempts: RegionAttemptDto[] },
  ): Promise<CreateInstanceResponseDto> {
    const now = Date.now();
    const at = new Date(now).toISOString();
    const { candidate: c } = created;
    const op: OperationRecord = {
      ...intent,
      phase: 'waiting_running',
      novitaInstanceId: created.novitaId,
      updatedAt: at,
    };
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
    await this.operations.update(op, now);
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
    return toCreateResponse(record, op, {
      regionAttempts: created.attempts,
      pricePerGpu: round(c.unitPrice),
      spotPrice: record.billingMode === 'spot' ? c.product.spotPrice : null,
    });
  }
}
