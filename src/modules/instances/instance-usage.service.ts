import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppError, ErrorCode, isAppError } from '../../common/errors';
import { AllConfig } from '../../config/config.types';
import {
  InstanceResponseDto,
  LastUsedResponseDto,
  StopAllResponseDto,
  StopAllResultDto,
} from './dto/instance-response.dto';
import { InstanceEvents } from '../records/instance-events';
import { toInstanceResponse } from '../records/instance.mapper';
import { InstanceLifecycleService } from './instance-lifecycle.service';
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
  private readonly thresholdMs: number;

  constructor(
    private readonly repo: InstanceRepository,
    private readonly lifecycle: InstanceLifecycleService,
    private readonly events: InstanceEvents,
    config: ConfigService<AllConfig, true>,
  ) {
    this.thresholdMs = config.get('autoStop', { infer: true }).inactivityThresholdMinutes * 60_000;
  }

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
    const deadline = at + this.thresholdMs;
    await this.repo.withInstanceLock(target.id, async () => {
      const record = await this.repo.get(target.id);
      if (!record || record.status === 'deleted')
        throw AppError.notFound(`Instance ${target.id}`, { instanceId: target.id });
      await this.repo.save({ ...record, lastUsedAt: iso, updatedAt: new Date(now).toISOString() });
      await this.repo.setIdleDeadline(record.id, deadline);
    });
    return {
      instanceId: target.id,
      lastUsedAt: iso,
      idleDeadline: new Date(deadline).toISOString(),
      message: 'Last used time updated successfully',
    };
  }

  /**
   * Takes an instance sync found on Novita under management: from now on auto-stop and spot
   * recovery act on it, and its events go to the given webhook URL (else the global one).
   */
  async adopt(target: InstanceRecord, opts: { webhookUrl?: string }): Promise<InstanceResponseDto> {
    this.events.assertUrlAllowed(opts.webhookUrl);
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
        updatedAt: new Date().toISOString(),
      };
      return this.repo.save(next);
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
