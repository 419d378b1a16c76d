import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppError, ErrorCode, isAppError } from '../../common/errors';
import { AllConfig, InstancesConfig } from '../../config/config.types';
import { CacheRegistry } from '../../infra/metrics/cache-registry';
import { NovitaListing } from '../../infra/novita/novita-listing';
import { NovitaInstance } from '../../infra/novita/novita.types';
import {
  ComprehensiveListResponseDto,
  InstanceListResponseDto,
  InstanceResponseDto,
} from './dto/instance-response.dto';
import { ComprehensiveQuery, ListInstancesQuery } from './dto/list-instances.query';
import { observedAt } from '../records/instance-index';
import { applyNovitaObservation } from '../records/instance-observation';
import { toInstanceResponse, toNovitaOnlyResponse } from '../records/instance.mapper';
import { InstancePages, PageQuery } from '../records/instance-pages';
import { InstanceRepository } from '../records/instance.repository';
import { InstanceRecord } from '../records/instance.types';
import { decodeCursor, encodeCursor, invalidCursor, ListOrder } from './list-cursor';
import { SyncJob } from '../sync/sync.job';
import { InstanceRefresher } from './instance-refresher';
import { PassInProgressError } from '../../infra/scheduling/job.types';

const DEFAULT_PAGE_SIZE = 100;
const DEFAULT_SYNC = { forceSync: false, handleObsoleteInstances: true, dryRun: false };
export const OBSERVED_STATUS_CACHE = 'observed-status';

/** When the record was last compared with Novita (ms); null when it never was. */
const syncedAt = (record: InstanceRecord): number | null =>
  record.lastSyncedAt ? Date.parse(record.lastSyncedAt) : null;

/** The answer's ageMs: ms since syncedAt. */
const ageSince = (synced: number | null, now: number): number | null =>
  synced === null ? null : Math.max(0, now - synced);

const ageOf = (record: InstanceRecord, now: number): number | null => ageSince(syncedAt(record), now);

const byCreatedDesc = (a: { createdAt: string | null }, b: { createdAt: string | null }): number =>
  (b.createdAt ?? '').localeCompare(a.createdAt ?? '');

/** List, get and the merged local + Novita listing. Reads serve the store; Novita is asked only when the cache is stale. */
@Injectable()
export class InstanceQueryService {
  private readonly logger = new Logger(InstanceQueryService.name);
  private readonly config: InstancesConfig;
  /** Observations made before this instant count as stale, whatever their age (set by a cache clear). */
  private staleBefore = 0;
  /** answerJsonAtOnce's JSON per frozen copy of a record: dropped with the copy. */
  private readonly answerJson = new WeakMap<
    InstanceRecord,
    { head: string; observed: number | null; synced: number | null }
  >();

  constructor(
    private readonly repo: InstanceRepository,
    private readonly pages: InstancePages,
    private readonly refresher: InstanceRefresher,
    private readonly listing: NovitaListing,
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
      // Fresh means observed after both the staleness window's start and the last clear (see isFresh).
      entries: () =>
        this.repo.countObservedSince(Math.max(this.staleBefore, Date.now() - this.config.staleAfterMs + 1)),
      sizeBytes: () => 0,
      clear: () => {
        this.staleBefore = Date.now();
      },
    });
  }

  /** observed: when Novita's status was last seen (observedAt). */
  private isFresh(observed: number | null, now: number): boolean {
    return observed !== null && observed >= this.staleBefore && now - observed < this.config.staleAfterMs;
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
    const page = await this.pages.listPage({
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

  /**
   * By our id or the Novita id. A record observed less than INSTANCE_CACHE_STALE_MS ago is served as
   * is. An older one (or one never observed, like a record just created) is served at once with
   * `stale: true` and its age, and refreshed in the background (one Novita call per observation
   * across replicas: see InstanceRefresher). With INSTANCE_CACHE_STALE_MS=0 nothing is cached: every
   * read waits for Novita. An id only Novita knows is fetched once for all concurrent callers.
   */
  async get(id: string, now = new Date()): Promise<InstanceResponseDto> {
    const record = await this.repo.findForRead(id);
    if (!record) return this.getNovitaOnly(id, now);
    const current = this.currentAnswer(record, now.getTime());
    if (current) return current;
    const ageMs = ageOf(record, now.getTime());
    this.caches.miss(OBSERVED_STATUS_CACHE);
    if (this.config.staleAfterMs > 0) {
      this.refresher.refreshInBackground(record);
      return toInstanceResponse(record, { stale: true, ageMs });
    }
    const refreshed = await this.refresher.refreshNow(record);
    return refreshed
      ? toInstanceResponse(refreshed, { stale: false, ageMs: 0 })
      : toInstanceResponse(record, { stale: true, ageMs });
  }

  /**
   * get's answer as JSON text when it needs no waiting: a record this process holds a copy of (see
   * InstanceRepository.peekForRead) that is fresh, or that Novita is not asked about. Undefined
   * otherwise (not held, stale, or only Novita knows it): then get has the answer. Serves
   * GET /api/instances/:id before Fastify and Nest (app.factory.ts, infra/http/inline-answers.ts).
   *
   * Only ageMs changes from one read of a copy to the next, so the rest of the JSON is built once
   * per copy: the read cache's copies are frozen and replaced, never changed, when the record
   * changes. A copy that is not frozen (the memory store decodes one per read) is built every time.
   */
  answerJsonAtOnce(id: string, now = Date.now()): string | undefined {
    const record = this.repo.peekForRead(id);
    if (!record) return undefined;
    let json = this.answerJson.get(record);
    if (!json) {
      json = {
        // The answer without ageMs, which comes last: '{..."stale":false' once the '}' is cut.
        head: JSON.stringify(toInstanceResponse(record, { stale: false })).slice(0, -1),
        observed: observedAt(record),
        synced: syncedAt(record),
      };
      if (Object.isFrozen(record)) this.answerJson.set(record, json);
    }
    if (!this.answersAtOnce(record, json.observed, now)) return undefined;
    return `${json.head},"ageMs":${JSON.stringify(ageSince(json.synced, now))}}`;
  }

  /** The answer for a record that needs no refresh: fresh, never created on Novita, or deleted. */
  private currentAnswer(record: InstanceRecord, now: number): InstanceResponseDto | undefined {
    return this.answersAtOnce(record, observedAt(record), now)
      ? toInstanceResponse(record, { stale: false, ageMs: ageOf(record, now) })
      : undefined;
  }

  /**
   * Whether a record is answered as it is: never created on Novita, deleted, or observed recently
   * enough (then counted as a hit of the observed-status cache; get counts the misses).
   */
  private answersAtOnce(record: InstanceRecord, observed: number | null, now: number): boolean {
    if (!record.novitaInstanceId || record.status === 'deleted') return true;
    if (!this.isFresh(observed, now)) return false;
    this.caches.hit(OBSERVED_STATUS_CACHE);
    return true;
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
    // Novita's list and the records are read at the same time, neither waiting for the other.
    const asked = Date.now();
    const walking = this.listing.walk();
    walking.catch(() => undefined); // awaited below; a rejection before then is not unhandled
    const records = await this.repo.listAllForRead();
    const locals = records.filter((r) => r.status !== 'deleted');

    let remote: NovitaInstance[];
    try {
      let walk = await walking;
      // A walk reused from before a record change (an instance created, stopped or deleted since, here
      // or on another replica) could contradict the records: walk again. A sync pass stamps what it
      // writes with its own start, so its walk stays usable.
      const notBefore = records.reduce((max, r) => Math.max(max, Date.parse(r.updatedAt) || 0), 0);
      if (walk.at < asked && walk.at < notBefore) walk = await this.listing.walk({ notBefore });
      remote = walk.instances;
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
    const nowIso = now.toISOString();
    for (const n of remote) {
      const local = byNovitaId.get(n.id);
      if (!local) {
        if (includeNovitaOnly) novitaOnly.push(toNovitaOnlyResponse(n, now, nowIso));
        continue;
      }
      merged.set(
        local.id,
        toInstanceResponse(applyNovitaObservation(local, n, now, nowIso), { source: 'merged' }),
      );
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
      return toNovitaOnlyResponse(await this.refresher.observe(id), now);
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
}
