import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppError, ErrorCode, isAppError } from '../../common/errors';
import { AllConfig, InstancesConfig } from '../../config/config.types';
import { CacheRegistry } from '../../infra/metrics/cache-registry';
import { NovitaClient } from '../../infra/novita/novita-client';
import { NovitaInstance } from '../../infra/novita/novita.types';
import {
  ComprehensiveListResponseDto,
  InstanceListResponseDto,
  InstanceResponseDto,
} from './dto/instance-response.dto';
import { ComprehensiveQuery, ListInstancesQuery } from './dto/list-instances.query';
import { applyNovitaObservation, markTerminated } from '../records/instance-observation';
import { toInstanceResponse, toNovitaOnlyResponse } from '../records/instance.mapper';
import { InstanceRepository, PageQuery } from '../records/instance.repository';
import { InstanceRecord } from '../records/instance.types';
import { decodeCursor, encodeCursor, invalidCursor, ListOrder } from './list-cursor';
import { SyncJob } from '../sync/sync.job';
import { PassInProgressError } from '../../infra/scheduling/job.types';

const DEFAULT_PAGE_SIZE = 100;
const DEFAULT_SYNC = { forceSync: false, handleObsoleteInstances: true, dryRun: false };
export const OBSERVED_STATUS_CACHE = 'observed-status';
/** Reads never wait long for the instance lock: if busy, the fresh view is returned without persisting it. */
const READ_LOCK_WAIT_MS = 500;

const byCreatedDesc = (a: { createdAt: string | null }, b: { createdAt: string | null }): number =>
  (b.createdAt ?? '').localeCompare(a.createdAt ?? '');

/** List, get and the merged local + Novita listing. Reads serve the store; Novita is asked only when the cache is stale. */
@Injectable()
export class InstanceQueryService {
  private readonly logger = new Logger(InstanceQueryService.name);
  private readonly config: InstancesConfig;
  /** Observations made before this instant count as stale, whatever their age (set by a cache clear). */
  private staleBefore = 0;

  constructor(
    private readonly repo: InstanceRepository,
    private readonly novita: NovitaClient,
    private readonly sync: SyncJob,
    configService: ConfigService<AllConfig, true>,
    private readonly caches: CacheRegistry = new CacheRegistry(),
  ) {
    this.config = configService.get('instances', { infer: true });
    // The record keeps the last observed status; this "cache" is only the rule that a recent one is
    // served without asking Novita. Clearing it forgets freshness, never the record.
    caches.register({
      name: OBSERVED_STATUS_CACHE,
      description:
        'Instance statuses observed from Novita less than INSTANCE_CACHE_STALE_MS ago, served without a Novita call',
      entries: async () => {
        const now = Date.now();
        return (await this.repo.listAll()).filter((r) => this.isFresh(r, now)).length;
      },
      sizeBytes: () => 0,
      clear: () => {
        this.staleBefore = Date.now();
      },
    });
  }

  private isFresh(record: InstanceRecord, now: number): boolean {
    if (!record.novitaInstanceId || record.status === 'deleted' || !record.lastSyncedAt) return false;
    const at = Date.parse(record.lastSyncedAt);
    return at >= this.staleBefore && now - at < this.config.staleAfterMs;
  }

  /**
   * One page from the store's indexes: reads the page's records only, whatever the number of
   * instances. Paged by cursor (stable while instances come and go) or by offset.
   */
  async list(query: ListInstancesQuery): Promise<InstanceListResponseDto> {
    const usePages = query.page !== undefined || query.pageSize !== undefined;
    const limit = (usePages ? query.pageSize : query.limit) ?? DEFAULT_PAGE_SIZE;
    let order: ListOrder = query.order ?? 'desc';
    let start: PageQuery['start'];
    let offset = 0;
    if (query.cursor !== undefined) {
      if (query.offset !== undefined || query.page !== undefined)
        throw invalidCursor('cursor cannot be combined with offset or page: it says where the page starts');
      const cursor = decodeCursor(query.cursor);
      if (query.order !== undefined && query.order !== cursor.order)
        throw invalidCursor(`cursor was issued for order=${cursor.order}`);
      order = cursor.order;
      start = { after: cursor.position };
    } else {
      offset = usePages ? ((query.page ?? 1) - 1) * limit : (query.offset ?? 0);
      start = { offset };
    }
    const page = await this.repo.listPage({
      filter: { status: query.status, managed: query.managed },
      name: query.name?.toLowerCase(),
      order,
      limit,
      start,
    });
    return {
      instances: page.records.map((r) => toInstanceResponse(r)),
      total: page.total,
      limit,
      offset,
      page: Math.floor(offset / limit) + 1,
      pageSize: limit,
      order,
      nextCursor: page.next ? encodeCursor(page.next, order) : null,
    };
  }

  /** By our id or the Novita id; refreshed from Novita when older than INSTANCE_CACHE_STALE_MS. */
  async get(id: string, now = new Date()): Promise<InstanceResponseDto> {
    const record = await this.repo.findByAnyId(id);
    if (!record) return this.getNovitaOnly(id, now);
    if (!record.novitaInstanceId || record.status === 'deleted')
      return toInstanceResponse(record, { stale: false });
    if (this.isFresh(record, now.getTime())) {
      this.caches.hit(OBSERVED_STATUS_CACHE);
      return toInstanceResponse(record, { stale: false });
    }
    this.caches.miss(OBSERVED_STATUS_CACHE);
    let observed: NovitaInstance;
    try {
      observed = await this.novita.getInstance(record.novitaInstanceId);
    } catch (err) {
      if (isAppError(err) && err.code === ErrorCode.NOT_FOUND) {
        return toInstanceResponse(
          await this.persist(record.id, (r) => markTerminated(r, now), markTerminated(record, now)),
        );
      }
      this.logger.warn({ instanceId: record.id, err }, 'Novita unavailable; serving the cached state');
      return toInstanceResponse(record, { stale: true });
    }
    const updated = await this.persist(
      record.id,
      (r) => applyNovitaObservation(r, observed, now),
      applyNovitaObservation(record, observed, now),
    );
    return toInstanceResponse(updated, { stale: false });
  }

  async comprehensive(query: ComprehensiveQuery, now = new Date()): Promise<ComprehensiveListResponseDto> {
    if (!this.config.enableComprehensiveListing) {
      throw new AppError(
        ErrorCode.FEATURE_DISABLED,
        'Comprehensive listing is disabled (ENABLE_COMPREHENSIVE_LISTING=false)',
      );
    }
    const includeNovitaOnly = query.includeNovitaOnly ?? this.config.defaultIncludeNovitaOnly;
    const syncLocalState = query.syncLocalState ?? this.config.defaultSyncLocalState;
    // The same pass as POST /api/instances/sync; one already running elsewhere serves as well.
    if (syncLocalState)
      await this.sync.trigger(DEFAULT_SYNC).catch((err: unknown) => this.ignoreBusySync(err));
    const locals = (await this.repo.listAll()).filter((r) => r.status !== 'deleted');

    let remote: NovitaInstance[];
    try {
      remote = [];
      for await (const inst of this.novita.listAllInstances()) remote.push(inst);
    } catch (err) {
      const e = isAppError(err) ? err : new AppError(ErrorCode.UPSTREAM_UNAVAILABLE, 'Novita listing failed');
      this.logger.warn({ err }, 'Novita unavailable; comprehensive listing shows local state only');
      const instances = locals.sort(byCreatedDesc).map((r) => toInstanceResponse(r, { stale: true }));
      return {
        instances,
        total: instances.length,
        sources: { local: locals.length, novita: 0, merged: 0 },
        novitaAvailable: false,
        novitaError: { code: e.code, message: e.message },
      };
    }

    const byNovitaId = new Map(locals.filter((r) => r.novitaInstanceId).map((r) => [r.novitaInstanceId!, r]));
    const merged = new Map<string, InstanceResponseDto>();
    const novitaOnly: InstanceResponseDto[] = [];
    for (const n of remote) {
      const local = byNovitaId.get(n.id);
      if (!local) {
        if (includeNovitaOnly) novitaOnly.push(toNovitaOnlyResponse(n, now));
        continue;
      }
      merged.set(local.id, toInstanceResponse(applyNovitaObservation(local, n, now), { source: 'merged' }));
    }
    const instances = [...locals.map((r) => merged.get(r.id) ?? toInstanceResponse(r)), ...novitaOnly].sort(
      byCreatedDesc,
    );
    return {
      instances,
      total: instances.length,
      sources: { local: locals.length, novita: remote.length, merged: merged.size },
      novitaAvailable: true,
    };
  }

  private ignoreBusySync(err: unknown): void {
    if (err instanceof AppError && err.code === ErrorCode.OPERATION_IN_PROGRESS) return;
    if (err instanceof PassInProgressError) return;
    // Novita down: the listing below reports novitaAvailable=false itself.
    this.logger.warn({ err }, 'Sync before the comprehensive listing failed');
  }

  private async getNovitaOnly(id: string, now: Date): Promise<InstanceResponseDto> {
    // Our own ids never exist on Novita: answer 404 without asking it.
    if (id.startsWith('inst_')) throw AppError.notFound(`Instance ${id}`, { instanceId: id });
    try {
      return toNovitaOnlyResponse(await this.novita.getInstance(id), now);
    } catch (err) {
      if (
        isAppError(err) &&
        (err.code === ErrorCode.NOT_FOUND || err.code === ErrorCode.UPSTREAM_BAD_REQUEST)
      ) {
        throw AppError.notFound(`Instance ${id}`, { instanceId: id });
      }
      throw err;
    }
  }

  /** Applies the change to the freshest record under the instance lock; when the lock is busy, returns the unsaved view. */
  private async persist(
    id: string,
    change: (r: InstanceRecord) => InstanceRecord,
    fallback: InstanceRecord,
  ): Promise<InstanceRecord> {
    try {
      return await this.repo.withInstanceLock(
        id,
        async () => {
          const current = await this.repo.get(id);
          return current ? this.repo.save(change(current)) : fallback;
        },
        READ_LOCK_WAIT_MS,
      );
    } catch (err) {
      if (
        isAppError(err) &&
        (err.code === ErrorCode.OPERATION_IN_PROGRESS || err.code === ErrorCode.CONFLICT)
      )
        return fallback;
      throw err;
    }
  }
}
