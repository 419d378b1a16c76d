import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ErrorCode, isAppError } from '../../common/errors';
import { AllConfig, SyncConfig } from '../../config/config.types';
import { NovitaClient } from '../../infra/novita/novita-client';
import { NovitaListing } from '../../infra/novita/novita-listing';
import { NovitaInstance } from '../../infra/novita/novita.types';
import { walkPages } from '../../infra/novita/page-walk';
import { WebhookEventType } from '../webhooks/webhook-emitter';
import { InstanceEvents } from '../records/instance-events';
import {
  applyNovitaObservation,
  markTerminated,
  observationFingerprint,
  recordFromNovita,
} from '../records/instance-observation';
import { InstanceRepository } from '../records/instance.repository';
import { SyncFound, SyncMark, SyncMarks } from '../records/sync-marks';
import { InstanceRecord, newInstanceId } from '../records/instance.types';
import { OperationRepository } from '../records/operation.repository';
import { decideAbsent } from './obsolete.policy';
import { SyncError, SyncOptions, SyncReport } from './sync.types';

/** Novita list page size for a sync pass. */
export const SYNC_PAGE_SIZE = 100;
/** Novita statuses after which an instance is gone: never adopted. */
const GONE_ON_NOVITA = new Set(['removed', 'removing', 'toRemove']);

interface PendingEvent {
  type: WebhookEventType;
  record: InstanceRecord;
  dedupeKey: string;
  reason?: string;
}

/**
 * Whether an observation changed anything worth a write: the fields applyNovitaObservation sets,
 * lastSyncedAt/updatedAt excepted. Compared field by field, statusError too (a sync of 10,000
 * instances does this 10,000 times).
 */
function changedByObservation(a: InstanceRecord, b: InstanceRecord): boolean {
  return (
    a.status !== b.status ||
    a.novitaStatus !== b.novitaStatus ||
    a.readiness !== b.readiness ||
    a.clusterId !== b.clusterId ||
    a.productId !== b.productId ||
    a.spotStatus !== b.spotStatus ||
    a.startedAt !== b.startedAt ||
    a.stoppedAt !== b.stoppedAt ||
    a.statusError?.state !== b.statusError?.state ||
    a.statusError?.message !== b.statusError?.message
  );
}

/**
 * One sync pass: pages through Novita's list, folds what it shows into the store in one batched
 * write per page, records instances it has never seen as unmanaged, announces transitions made
 * outside the service, then applies the obsolete policy to records Novita no longer lists (each
 * confirmed with a GET; a failed listing marks nothing).
 * A record found unchanged is marked with its version and the observation's fingerprint; while
 * neither changes, later passes do not read it, so a steady pass reads and writes almost nothing.
 */
@Injectable()
export class SyncService {
  private readonly logger = new Logger(SyncService.name);
  private readonly config: SyncConfig;
  /** Novita list pages in flight for one pass: the client's own limit (NOVITA_MAX_CONCURRENT_REQUESTS). */
  private readonly pageConcurrency: number;

  constructor(
    private readonly repo: InstanceRepository,
    private readonly operations: OperationRepository,
    private readonly novita: NovitaClient,
    private readonly events: InstanceEvents,
    configService: ConfigService<AllConfig, true>,
    private readonly listing: NovitaListing,
    private readonly marks: SyncMarks,
  ) {
    this.config = configService.get('sync', { infer: true });
    this.pageConcurrency = configService.get('novita', { infer: true }).maxConcurrent;
  }

  async run(
    runId: string,
    options: SyncOptions,
    keepAlive: () => Promise<void> = async () => undefined,
  ): Promise<SyncReport> {
    const started = Date.now();
    const now = new Date(started);
    const nowIso = now.toISOString();
    // Page 1 is asked while the open operations are read.
    const firstPage = this.novita.listInstances(1, SYNC_PAGE_SIZE);
    firstPage.catch(() => undefined); // awaited below; a rejection before then is not unhandled
    // The records that exist as the pass starts, read while page 1 is on its way rather than after
    // the last page. A record written during the walk is not among them: the next pass judges it.
    const recordIdsAtStart = this.repo.allIds();
    recordIdsAtStart.catch(() => undefined);
    const openOps = new Set(await this.operations.openIds());
    // An instance with an open operation is the reconciler's: sync neither rewrites nor judges it.
    const busy = (r: InstanceRecord): boolean => !!r.activeOperationId && openOps.has(r.activeOperationId);
    // Names of creates still in flight: their Novita instance belongs to that record, not to adoption.
    const reservedNames = await this.namesOfOpenCreates([...openOps]);

    const report: SyncReport = {
      runId,
      beforeSync: 0,
      afterSync: 0,
      novitaInstances: 0,
      localInstances: 0,
      mergedInstances: 0,
      totalInstances: 0,
      instancesRemoved: 0,
      updated: 0,
      adopted: 0,
      markedObsolete: 0,
      unchanged: 0,
      pages: 0,
      errors: [],
      duration: 0,
      timestamp: nowIso,
      options,
    };
    const seen = new Set<string>();
    const seenRecordIds = new Set<string>();

    // Pages are walked like the comprehensive listing walks them (NOVITA_MAX_CONCURRENT_REQUESTS at a
    // time once page 1 told the total) and each is folded in as it arrives, reading only its own
    // records, so no page waits for another. A record read may change before its page is written:
    // the write checks for that. A listing failure ends the pass once the pages in flight have
    // settled, and marks nothing obsolete: the caller records it as failed.
    const listed = await walkPages(
      async (pageNum) => {
        await keepAlive();
        return pageNum === 1 ? firstPage : this.novita.listInstances(pageNum, SYNC_PAGE_SIZE);
      },
      SYNC_PAGE_SIZE,
      this.pageConcurrency,
      async (page) => {
        report.pages++;
        // Each id once per pass: an instance created mid-walk shifts later pages and repeats an item,
        // which two pages folded at the same time would otherwise both adopt.
        const fresh = page.instances.filter((inst) => !seen.has(inst.id));
        for (const inst of fresh) seen.add(inst.id);
        // Records not written since a pass found them matching the same observation are not read.
        const fingerprints = fresh.map(observationFingerprint);
        const found = await this.marks.find(
          fresh.map((i) => i.id),
          fingerprints,
        );
        for (const f of found.values()) seenRecordIds.add(f.id);
        await this.applyPage(fresh, fingerprints, {
          found,
          busy,
          reservedNames,
          report,
          options,
          now,
          nowIso,
        });
      },
    );
    report.novitaInstances = seen.size;
    // The whole walk, for the comprehensive listing to reuse.
    this.listing.remember(listed, started);

    // Records Novita did not list: every record present at the start but those found by their Novita
    // id on a page (one round trip for the ids, whatever their number, and usually none to read).
    const unseen = (await recordIdsAtStart).filter((id) => !seenRecordIds.has(id));
    const candidates = (await this.repo.getMany(unseen)).filter(
      // Records this pass just adopted are listed, not absent.
      (r): r is InstanceRecord =>
        r !== null && r.status !== 'deleted' && !(r.novitaInstanceId && seen.has(r.novitaInstanceId)),
    );
    report.localInstances = report.mergedInstances + candidates.length;
    report.beforeSync = report.localInstances;

    if (options.handleObsoleteInstances) {
      for (const record of candidates) {
        try {
          await keepAlive();
          await this.handleAbsent(record, busy(record), report, options, now);
        } catch (err) {
          report.errors.push({ instanceId: record.id, message: errorText(err) });
        }
      }
    }
    report.afterSync = report.beforeSync + report.adopted - report.instancesRemoved;
    report.totalInstances = report.afterSync;
    report.duration = Date.now() - started;
    this.logger.log(
      {
        runId,
        dryRun: options.dryRun,
        updated: report.updated,
        adopted: report.adopted,
        removed: report.instancesRemoved,
        markedObsolete: report.markedObsolete,
        totalNovitaInstances: report.novitaInstances,
        totalLocalInstances: report.localInstances,
        errors: report.errors.length,
      },
      'Instance sync completed',
    );
    return report;
  }

  private async namesOfOpenCreates(openOpIds: string[]): Promise<Set<string>> {
    const ops = await Promise.all(openOpIds.map((id) => this.operations.get(id)));
    const creating = ops
      .filter((op) => op?.kind === 'create' && op.phase === 'intent')
      .map((op) => op!.instanceId);
    const records = await this.repo.getMany(creating);
    return new Set(records.filter((r): r is InstanceRecord => r !== null).map((r) => r.name));
  }

  private async applyPage(
    instances: NovitaInstance[],
    fingerprints: string[],
    ctx: {
      found: Map<string, SyncFound>;
      busy: (r: InstanceRecord) => boolean;
      reservedNames: Set<string>;
      report: SyncReport;
      options: SyncOptions;
      now: Date;
      nowIso: string;
    },
  ): Promise<void> {
    const { report, now } = ctx;
    const changed: InstanceRecord[] = [];
    const before = new Map<string, InstanceRecord>();
    const adopted: InstanceRecord[] = [];
    const pending: PendingEvent[] = [];
    const marks: SyncMark[] = [];
    /** Unchanged records written before versions existed: written once (not counted) to get one. */
    const versioning = new Set<string>();
    instances.forEach((inst, i) => {
      try {
        const found = ctx.found.get(inst.id);
        if (!found) {
          if (GONE_ON_NOVITA.has(inst.status) || ctx.reservedNames.has(inst.name)) return;
          adopted.push(recordFromNovita(newInstanceId(), inst, now));
          return;
        }
        report.mergedInstances++;
        // Marked as matching this very observation and not written since: neither side changed.
        // (It was not busy when marked, and an operation opened since would have written it.)
        const { record, version } = found;
        if (record === null) {
          report.unchanged++;
          return;
        }
        if (ctx.busy(record)) return;
        const next = applyNovitaObservation(record, inst, now, ctx.nowIso);
        if (!changedByObservation(record, next) && !portsDiffer(record, next)) {
          report.unchanged++;
          if (version === null) {
            versioning.add(record.id);
            changed.push(next);
            before.set(next.id, record);
          } else
            marks.push({ novitaInstanceId: inst.id, id: record.id, version, fingerprint: fingerprints[i] });
          return;
        }
        const event = this.transitionEvent(record, next, inst);
        if (event) pending.push(event);
        changed.push(next);
        before.set(next.id, record);
      } catch (err) {
        report.errors.push({ novitaInstanceId: inst.id, message: errorText(err) });
      }
    });
    report.adopted += adopted.length;
    if (ctx.options.dryRun) {
      report.updated += changed.length - versioning.size;
      return;
    }
    // Another writer (an API request) may have changed a record since the listing was read: keep
    // its version; the next pass looks again. One round trip for the page.
    const current = await this.repo.getMany(changed.map((r) => r.id));
    const writable = changed.filter((r, i) => current[i]?.updatedAt === before.get(r.id)!.updatedAt);
    const writableIds = new Set(writable.map((r) => r.id));
    report.updated += writable.filter((r) => !versioning.has(r.id)).length;
    // Events first, each with a stable dedupe key: a pass cut off here re-emits the same events once.
    for (const e of pending.filter((p) => writableIds.has(p.record.id))) await this.emit(e, report);
    await this.repo.saveMany(writable);
    await this.marks.mark(marks);
    if (adopted.length > 0) {
      await this.repo.saveMany(adopted, { claimNames: true });
      for (const r of adopted)
        this.logger.log(
          { instanceId: r.id, novitaInstanceId: r.novitaInstanceId, name: r.name },
          'Adopted instance found on Novita (unmanaged)',
        );
    }
  }

  /** The event an API-driven transition would have sent, for one that happened outside the service. */
  private transitionEvent(
    prev: InstanceRecord,
    next: InstanceRecord,
    inst: NovitaInstance,
  ): PendingEvent | null {
    const wasUp = ['running', 'ready', 'starting'].includes(prev.status);
    const wasDown = ['stopped', 'stopping', 'failed', 'unknown', 'terminated'].includes(prev.status);
    // Novita's own timestamps identify the transition, so every replica and every retry uses one key.
    if (wasUp && next.status === 'stopped')
      return {
        type: 'instance.stopped',
        record: next,
        dedupeKey: `${prev.id}:observed:stopped:${inst.lastStoppedAt ?? inst.stoppedAt ?? next.stoppedAt}`,
        reason: 'stopped outside this service',
      };
    if (wasDown && (next.status === 'running' || next.status === 'ready'))
      return {
        type: 'instance.running',
        record: next,
        dedupeKey: `${prev.id}:observed:running:${inst.lastStartedAt ?? inst.startedAt ?? next.startedAt}`,
        reason: 'started outside this service',
      };
    return null;
  }

  /** A record Novita's listing did not show: the obsolete policy, after confirming with a GET. */
  private async handleAbsent(
    record: InstanceRecord,
    busy: boolean,
    report: SyncReport,
    options: SyncOptions,
    now: Date,
  ): Promise<void> {
    const decision = decideAbsent(record, busy, now.getTime(), this.config);
    if (decision.kind === 'leave') return;
    if (decision.kind === 'remove') {
      await this.remove(record, decision.reason, report, options);
      return;
    }
    // Absent from the listing: confirm. Only Novita's "not found" counts; 5xx, timeouts and an open
    // breaker throw and leave the record alone.
    try {
      await this.novita.getInstance(record.novitaInstanceId!);
      return; // the listing missed it; the next pass sees it again
    } catch (err) {
      if (!(isAppError(err) && err.code === ErrorCode.NOT_FOUND)) throw err;
    }
    if (decision.then === 'remove') {
      await this.remove(record, 'Instance no longer exists in Novita', report, options);
      return;
    }
    report.markedObsolete++;
    if (options.dryRun) return;
    const terminated = markTerminated(record, now);
    await this.emit(
      {
        type: 'instance.terminated',
        record: terminated,
        dedupeKey: `${record.id}:terminated`,
        reason: 'Instance no longer exists in Novita',
      },
      report,
    );
    await this.repo.save(terminated);
    this.logger.log(
      {
        instanceId: record.id,
        novitaInstanceId: record.novitaInstanceId,
        lastStatus: record.status,
        reason: 'Instance no longer exists in Novita',
      },
      'Marked obsolete instance as terminated',
    );
  }

  private async remove(
    record: InstanceRecord,
    reason: string,
    report: SyncReport,
    options: SyncOptions,
  ): Promise<void> {
    report.instancesRemoved++;
    if (options.dryRun) return;
    await this.emit({ type: 'instance.removed', record, dedupeKey: `${record.id}:removed`, reason }, report);
    await this.repo.remove(record);
    this.logger.log(
      { instanceId: record.id, novitaInstanceId: record.novitaInstanceId, lastStatus: record.status, reason },
      'Removed obsolete instance from the store',
    );
  }

  private async emit(e: PendingEvent, report: SyncReport): Promise<void> {
    try {
      await this.events.emit(e.type, e.record, { dedupeKey: e.dedupeKey, reason: e.reason });
    } catch (err) {
      report.errors.push({
        instanceId: e.record.id,
        message: `event ${e.type} not recorded: ${errorText(err)}`,
      });
      throw err;
    }
  }
}

/** Port mappings are replaced by a fresh array on every observation: compare their content. */
function portsDiffer(a: InstanceRecord, b: InstanceRecord): boolean {
  if (a.portMappings === b.portMappings) return false;
  if (a.portMappings.length !== b.portMappings.length) return true;
  return a.portMappings.some((m, i) => {
    const o = b.portMappings[i];
    return m.port !== o.port || m.endpoint !== o.endpoint || m.type !== o.type;
  });
}

function errorText(err: unknown): string {
  return isAppError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
}

export type { SyncError };
