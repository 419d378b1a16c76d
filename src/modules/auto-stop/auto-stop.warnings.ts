import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AllConfig, AutoStopConfig } from '../../config/config.types';
import { IdleDeadlines } from '../records/idle-deadlines';
import { MINUTE_MS, hasIdleClock, isSubjectToAutoStop } from '../records/idle-policy';
import { InstanceEvents } from '../records/instance-events';
import { InstanceRecord } from '../records/instance.types';
import { AutoStopSweepSteps, DueGroup, SweepOutcome } from './auto-stop.sweep-steps';

/**
 * The idle warning, AUTO_STOP_WARNING_MINUTES before the deadline: instance.idle_warning once per
 * deadline, remembered by this replica so later passes in the window read nothing for it.
 */
@Injectable()
export class AutoStopWarnings {
  private readonly config: AutoStopConfig;
  /** `${instanceId}@${deadline}` of warnings sent by this replica, so a pass does not re-send each time. */
  private readonly warned = new Map<string, number>();

  constructor(
    private readonly idle: IdleDeadlines,
    private readonly events: InstanceEvents,
    private readonly steps: AutoStopSweepSteps,
    configService: ConfigService<AllConfig, true>,
  ) {
    this.config = configService.get('autoStop', { infer: true });
  }

  get warningMs(): number {
    return this.config.warningMinutes * MINUTE_MS;
  }

  /** Only a future idle deadline this replica has already warned about: nothing to read or do. */
  onlyWarnedAlready(g: DueGroup, now: number): boolean {
    return (
      g.action === undefined &&
      g.del === undefined &&
      g.idle !== undefined &&
      g.idle > now &&
      this.warned.has(`${g.instanceId}@${g.idle}`)
    );
  }

  async warn(record: InstanceRecord, deadlineMs: number, now: number): Promise<SweepOutcome> {
    if (!isSubjectToAutoStop(record, this.idle.bounds) || !hasIdleClock(record)) return { kind: 'none' };
    const idleSeconds = this.steps.idleSeconds(record, deadlineMs, now);
    await this.events.emit('instance.idle_warning', record, {
      dedupeKey: `${record.id}:idle_warning:${deadlineMs}`,
      extra: {
        autoStop: {
          idleDeadline: new Date(deadlineMs).toISOString(),
          idleSeconds,
          secondsLeft: Math.max(0, Math.round((deadlineMs - now) / 1000)),
          policy: this.idle.policyOf(record),
          snoozeUrl: `/api/instances/${record.id}/auto-stop/snooze`,
        },
      },
    });
    this.warned.set(`${record.id}@${deadlineMs}`, deadlineMs);
    await this.steps.count('warnings');
    return { kind: 'warned' };
  }

  forgetOldWarnings(now: number): void {
    for (const [key, deadline] of this.warned) if (deadline < now) this.warned.delete(key);
  }
}
