import { Injectable, Logger } from '@nestjs/common';
import { AppError, ErrorCode, isAppError } from '../../common/errors';
import {
  InstanceResponseDto,
  LastUsedResponseDto,
  StopAllResponseDto,
  StopAllResultDto,
} from './dto/instance-response.dto';
import { InstanceEvents } from '../records/instance-events';
import { AdoptInstanceDto } from './dto/instance-action.dto';
import { toInstanceResponse } from '../records/instance.mapper';
import { InstanceLifecycleService } from './instance-lifecycle.service';
import { IdleDeadlines } from '../records/idle-deadlines';
import { hasIdleClock } from '../records/idle-policy';
import { InstanceRepository } from '../records/instance.repository';
import { InstanceRecord, isManaged } from '../records/instance.types';
import { RUNNING_LIKE } from '../records/status-mapping';

/** Clock skew tolerated for a client-supplied lastUsedAt. */
export const LAST_USED_MAX_SKEW_MS = 60_000;
/** Stops issued at once by stop-all (each is a Novita call plus a refresh). */
const STOP_ALL_CONCURRENCY = 4;

/** Last-used heartbeats (feeding the auto-stop deadlines) and stop-all. */
@Injectable()
export class InstanceUsageService {
  private readonly logger = new Logger(InstanceUsageService.name);

  constructor(
    private readonly repo: InstanceRepository,
    private readonly lifecycle: InstanceLifecycleService,
    private readonly events: InstanceEvents,
    private readonly idle: IdleDeadlines,
  ) {}

  async updateLastUsed(
    target: InstanceRecord,
    lastUsedAt: string | undefined,
    now = Date.now(),
  ): Promise<LastUsedResponseDto> {
    const at = lastUsedAt === undefined ? now : Date.parse(lastUsedAt);
    if (Number.isNaN(at) || at > now + LAST_USED_MAX_SKEW_MS) {
      throw new AppError(ErrorCode.VALIDATION_ERROR, 'lastUsedAt must not be in the future', {
        fields: [
          {
            field: 'lastUsedAt',
            messages: [`must not be more than ${LAST_USED_MAX_SKEW_MS / 1000}s in the future`],
          },
        ],
      });
    }
    const iso = new Date(at).toISOString();
    const deadline = await this.repo.withInstanceLock(target.id, async () => {
      const record = await this.repo.get(target.id);
      if (!record || record.status === 'deleted')
        throw AppError.notFound(`Instance ${target.id}`, { instanceId: target.id });
      const saved = await this.repo.save({
        ...record,
        lastUsedAt: iso,
        updatedAt: new Date(now).toISOString(),
      });
      // Only a running instance has an idle clock; a stopped one gets its deadline when it runs again.
      if (!hasIdleClock(saved)) {
        await this.idle.closeSavings(saved, at);
        return null;
      }
      return this.idle.onHeartbeat(saved, at);
    });
    return {
      instanceId: target.id,
      lastUsedAt: iso,
      idleDeadline: deadline === null ? null : new Date(deadline).toISOString(),
      message:
        deadline === null
          ? 'Last used time updated; auto-stop does not apply to this instance now'
          : 'Last used time updated successfully',
    };
  }

  /**
   * Takes an instance sync found on Novita under management: from now on auto-stop and spot
   * recovery act on it, and its events go to the given webhook URL (else the global one).
   */
  async adopt(target: InstanceRecord, opts: AdoptInstanceDto): Promise<InstanceResponseDto> {
    this.events.assertUrlAllowed(opts.webhookUrl);
    this.idle.assertAllowed(opts.autoStop);
    const adopted = await this.repo.withInstanceLock(target.id, async () => {
      const record = await this.repo.get(target.id);
      if (!record || record.status === 'deleted')
        throw AppError.notFound(`Instance ${target.id}`, { instanceId: target.id });
      if (record.status === 'terminated')
        throw new AppError(ErrorCode.INVALID_STATE, `Instance ${record.name} no longer exists on Novita`, {
          instanceId: record.id,
          status: record.status,
        });
      const next: InstanceRecord = {
        ...record,
        managed: true,
        webhookUrl: opts.webhookUrl ?? record.webhookUrl,
        autoStop: opts.autoStop ?? record.autoStop ?? null,
        updatedAt: new Date().toISOString(),
      };
      const saved = await this.repo.save(next);
      // Running already: its idle clock starts now, as for an instance that just became ready.
      await this.idle.onActive(saved, Date.now());
      return saved;
    });
    this.logger.log(
      { instanceId: adopted.id, novitaInstanceId: adopted.novitaInstanceId },
      'Instance adopted',
    );
    return toInstanceResponse(adopted);
  }

  /** Stops every managed instance that is running, ready or starting; one result per instance, never all-or-nothing. */
  async stopAll(): Promise<StopAllResponseDto> {
    // Only managed instances: ones sync merely found on the account are left to their owners.
    const targets = (await this.repo.listAll()).filter((r) => isManaged(r) && RUNNING_LIKE.has(r.status));
    const results: StopAllResultDto[] = [];
    for (let i = 0; i < targets.length; i += STOP_ALL_CONCURRENCY) {
      const batch = targets.slice(i, i + STOP_ALL_CONCURRENCY);
      results.push(...(await Promise.all(batch.map((r) => this.stopOne(r)))));
    }
    const succeeded = results.filter((r) => r.success).length;
    return {
      success: succeeded === results.length,
      message: `Stop initiated for ${succeeded} of ${results.length} instances`,
      count: results.length,
      succeeded,
      failed: results.length - succeeded,
      results,
      timestamp: new Date().toISOString(),
    };
  }

  private async stopOne(record: InstanceRecord): Promise<StopAllResultDto> {
    try {
      const res = await this.lifecycle.stop(record);
      return { instanceId: record.id, name: record.name, success: true, status: res.status };
    } catch (err) {
      this.logger.warn({ instanceId: record.id, err }, 'stop-all: stop failed');
      const error = isAppError(err)
        ? { code: err.code, message: err.message }
        : { code: ErrorCode.INTERNAL_ERROR, message: 'Unexpected error' };
      return { instanceId: record.id, name: record.name, success: false, error };
    }
  }
}
