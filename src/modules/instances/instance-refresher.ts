import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ErrorCode, isAppError } from '../../common/errors';
import { AllConfig } from '../../config/config.types';
import { NovitaClient } from '../../infra/novita/novita-client';
import { NovitaInstance } from '../../infra/novita/novita.types';
import { StateStore } from '../../infra/store/state-store';
import { applyNovitaObservation, markTerminated } from '../records/instance-observation';
import { InstanceRepository } from '../records/instance.repository';
import { InstanceRecord } from '../records/instance.types';

/** Reads never wait long for the instance lock: if busy, the fresh view is returned without persisting it. */
const READ_LOCK_WAIT_MS = 500;

/** The store key that elects one refresher, on any replica, for one observation of one record. */
export const refreshClaimKey = (record: InstanceRecord): string =>
  `instance-refresh:${record.id}:${record.lastSyncedAt ?? 'never'}`;

/**
 * Brings records up to date with Novita for reads, asking it as seldom as possible:
 * - In this process, one getInstance per Novita id at a time; concurrent callers share its answer.
 * - Across replicas, a background refresh first claims refreshClaimKey (set only if absent, kept
 *   for INSTANCE_CACHE_STALE_MS): one replica asks Novita about an observation, the others keep
 *   serving it. The key names the observation (lastSyncedAt), so once a refresh lands the next
 *   staleness starts a new election, and a failed refresh is not retried before the window ends.
 */
@Injectable()
export class InstanceRefresher implements BeforeApplicationShutdown {
  private readonly logger = new Logger(InstanceRefresher.name);
  private readonly staleAfterMs: number;
  /** Novita reads in flight, by Novita id. */
  private readonly reads = new Map<string, Promise<NovitaInstance>>();
  /** Refreshes in flight, by record id; never rejected. */
  private readonly refreshes = new Map<string, Promise<InstanceRecord | null>>();

  constructor(
    private readonly repo: InstanceRepository,
    private readonly novita: NovitaClient,
    private readonly store: StateStore,
    configService: ConfigService<AllConfig, true>,
  ) {
    this.staleAfterMs = configService.get('instances', { infer: true }).staleAfterMs;
  }

  /** Novita's view of one instance; concurrent calls for one id share one request. */
  observe(novitaId: string): Promise<NovitaInstance> {
    let read = this.reads.get(novitaId);
    if (!read) {
      read = this.novita.getInstance(novitaId).finally(() => this.reads.delete(novitaId));
      this.reads.set(novitaId, read);
    }
    return read;
  }

  /**
   * Starts one refresh of a stale record unless one is running here or another replica claimed this
   * observation. Returns at once; errors are logged, never thrown.
   */
  refreshInBackground(record: InstanceRecord): void {
    void this.refreshOnce(record, true);
  }

  /**
   * Refreshes the record now (joining a refresh already running here) and returns the saved (or,
   * when the lock was busy, unsaved) view; null when Novita could not be asked.
   */
  refreshNow(record: InstanceRecord): Promise<InstanceRecord | null> {
    return this.refreshOnce(record, false);
  }

  /** Lets background refreshes finish before the store closes. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.settled();
  }

  /** Resolves once every refresh started so far has finished. */
  async settled(): Promise<void> {
    while (this.refreshes.size > 0) await Promise.all([...this.refreshes.values()]);
  }

  private refreshOnce(record: InstanceRecord, claim: boolean): Promise<InstanceRecord | null> {
    let refresh = this.refreshes.get(record.id);
    if (!refresh) {
      refresh = this.refresh(record, claim)
        .catch((err: unknown) => {
          this.logger.warn({ instanceId: record.id, err }, 'Refreshing the instance from Novita failed');
          return null;
        })
        .finally(() => this.refreshes.delete(record.id));
      this.refreshes.set(record.id, refresh);
    }
    return refresh;
  }

  private async refresh(record: InstanceRecord, claim: boolean): Promise<InstanceRecord | null> {
    if (claim) {
      const claimed = await this.store.set(refreshClaimKey(record), Date.now(), {
        onlyIfAbsent: true,
        ttlMs: this.staleAfterMs,
      });
      if (!claimed) return null;
    }
    let observed: NovitaInstance;
    try {
      observed = await this.observe(record.novitaInstanceId!);
    } catch (err) {
      if (isAppError(err) && err.code === ErrorCode.NOT_FOUND) {
        const now = new Date();
        return this.persist(record.id, (r) => markTerminated(r, now), markTerminated(record, now));
      }
      this.logger.warn({ instanceId: record.id, err }, 'Novita unavailable; serving the cached state');
      return null;
    }
    const now = new Date();
    return this.persist(
      record.id,
      (r) => applyNovitaObservation(r, observed, now),
      applyNovitaObservation(record, observed, now),
    );
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
