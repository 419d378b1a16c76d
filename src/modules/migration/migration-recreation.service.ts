import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ErrorCode, isAppError } from '../../common/errors';
import { AllConfig, InstancesConfig, MigrationConfig } from '../../config/config.types';
import { NovitaClient } from '../../infra/novita/novita-client';
import { NovitaInstance } from '../../infra/novita/novita.types';
import { NovitaCatalogService } from '../instances/novita-catalog.service';
import { InstanceRepository } from '../records/instance.repository';
import { OperationRecord } from '../records/operation.types';
import { MigrationLogger } from './migration-logger';
import {
  MIGRATION_LOG_CONTEXT,
  MigrationSteps,
  StepOutcome,
  errorOf,
  iso,
  withReplacement,
} from './migration-steps';
import { MigrationRepository } from './migration.repository';

/** Create attempts per recreation whose outcome was a definite "no" or unknown, before giving up. */
const MAX_RECREATE_ATTEMPTS = 3;

/**
 * Recovery after a failed migration: a replacement is created from the stored spec through the normal
 * product selection (the create is written ahead and an unknown outcome is settled by looking the name
 * up), adopted as the instance's Novita instance, and only then is the old one deleted.
 */
@Injectable()
export class MigrationRecreation {
  private readonly instancesConfig: InstancesConfig;
  private readonly log: MigrationLogger;

  constructor(
    private readonly repo: MigrationRepository,
    private readonly instances: InstanceRepository,
    private readonly novita: NovitaClient,
    private readonly catalog: NovitaCatalogService,
    private readonly steps: MigrationSteps,
    configService: ConfigService<AllConfig, true>,
  ) {
    const config: MigrationConfig = configService.get('migration', { infer: true });
    this.instancesConfig = configService.get('instances', { infer: true });
    this.log = new MigrationLogger(MIGRATION_LOG_CONTEXT, config.logLevel);
  }

  /** One recreation from the stored spec through the normal product selection; the create call is written ahead. */
  async recreate(op: OperationRecord, now: number): Promise<StepOutcome> {
    const record = await this.instances.get(op.instanceId);
    if (!record) return this.steps.cancel(op, now, 'the instance record is gone');
    const rc = op.migration!.recreate ?? { attempts: 0 };
    if (rc.attemptAt !== undefined) {
      let found: NovitaInstance | null;
      try {
        found = await this.findReplacement(record.name, op.migration!.originalNovitaInstanceId);
      } catch (err) {
        return this.steps.retryLater(op, now, errorOf(err).message);
      }
      if (found) return this.adoptReplacement(op, found.id, now);
      if (now - rc.attemptAt < this.steps.settleMs) return this.steps.retryLater(op, now, null);
    }
    if (rc.attempts >= MAX_RECREATE_ATTEMPTS) {
      return this.steps.finalFail(op, now, {
        code: 'RECREATE_FAILED',
        message: `no replacement after ${rc.attempts} create attempts`,
      });
    }
    const spec = record.spec;
    let plan;
    try {
      plan = (await this.catalog.planFor(spec, this.instancesConfig.regionFallbackOrder)).plan;
    } catch (err) {
      return this.steps.retryLater(op, now, errorOf(err).message);
    }
    let current = op;
    const reasons: string[] = [];
    for (const entry of plan) {
      if (!entry.candidate) {
        reasons.push(`${entry.region}: ${entry.reason}`);
        continue;
      }
      const c = entry.candidate;
      const written = await this.steps.guard(current, async (cur) => {
        const prev = cur.migration!.recreate ?? { attempts: 0 };
        const next = this.steps.withStep(cur, 'recreate_intent', now, {
          recreate: {
            ...prev,
            attempts: prev.attempts + 1,
            attemptAt: Date.now(),
            region: c.region,
            clusterId: c.clusterId,
            productId: c.product.id,
            unitPrice: c.unitPrice,
          },
        });
        await this.repo.save(next, Date.now() + this.steps.intervalMs);
        return next;
      });
      if (!written.ok) return written.outcome;
      current = written.value;
      try {
        const { id } = await this.novita.createInstance({
          name: record.name,
          productId: c.product.id,
          clusterId: c.clusterId,
          gpuNum: spec.gpuNum,
          rootfsSize: spec.rootfsSize,
          imageUrl: spec.imageUrl,
          ...(spec.imageAuthId ? { imageAuthId: spec.imageAuthId } : {}),
          ports: spec.ports,
          envs: spec.envs,
          command: spec.command,
          billingMode: spec.billingMode,
          kind: 'gpu',
        });
        const adopted = await this.adoptReplacement(current, id, now);
        if (adopted === 'closed') await this.discardReplacement(op, id);
        return adopted;
      } catch (err) {
        const e = errorOf(err);
        if (e.code === ErrorCode.INSUFFICIENT_RESOURCES) {
          reasons.push(`${entry.region}: Novita answered insufficient resources for ${c.product.id}`);
          // A definite no: nothing to settle for this attempt.
          const cleared = await this.steps.guard(current, async (cur) => {
            const next = this.steps.withStep(cur, 'recreate_intent', now, {
              recreate: { ...cur.migration!.recreate!, attemptAt: undefined },
            });
            await this.repo.save(next, now + this.steps.intervalMs);
            return next;
          });
          if (!cleared.ok) return cleared.outcome;
          current = cleared.value;
          continue;
        }
        if (
          [ErrorCode.UPSTREAM_BAD_REQUEST, ErrorCode.UNAUTHORIZED_UPSTREAM, ErrorCode.NOT_FOUND].includes(
            e.code as ErrorCode,
          )
        ) {
          return this.steps.finalFail(current, now, {
            code: 'RECREATE_FAILED',
            message: `Novita refused the create: ${e.message}`,
          });
        }
        // Unknown outcome: the next pass looks the name up on Novita before trying again.
        this.log.warn({ operationId: op.id, err: e }, 'Create outcome unknown; settling by name');
        return 'waiting';
      }
    }
    return this.steps.finalFail(current, now, {
      code: 'RECREATE_FAILED',
      message: `no capacity for ${spec.productName} (${spec.billingMode}) in any region: ${reasons.join('; ')}`,
    });
  }

  /** The migration was cancelled (deleted or stopped by a user) while the create was on its way: no orphan is left. */
  private async discardReplacement(op: OperationRecord, novitaId: string): Promise<void> {
    this.log.warn(
      { operationId: op.id, novitaInstanceId: novitaId },
      'Migration cancelled during recreation; deleting the replacement',
    );
    await this.novita
      .deleteInstance(novitaId)
      .catch((err: unknown) =>
        this.log.error(
          { operationId: op.id, novitaInstanceId: novitaId, err: errorOf(err) },
          'Could not delete the unused replacement',
        ),
      );
  }

  /** The replacement created by an earlier attempt: same name, another Novita id, not on its way out. */
  private async findReplacement(name: string, originalId: string): Promise<NovitaInstance | null> {
    const page = await this.novita.listInstances(1, 100, { name });
    const gone = new Set(['toRemove', 'removing', 'removed']);
    return page.instances.find((i) => i.name === name && i.id !== originalId && !gone.has(i.status)) ?? null;
  }

  private async adoptReplacement(op: OperationRecord, newId: string, now: number): Promise<StepOutcome> {
    const g = await this.steps.guard(op, async (cur, record) => {
      const rc = cur.migration!.recreate ?? { attempts: 1 };
      const next = this.steps.withStep(cur, 'delete_old', now, {
        recreate: { ...rc, attemptAt: undefined, newNovitaInstanceId: newId },
      });
      next.novitaInstanceId = newId;
      await this.repo.save(next, now);
      // Operation first: from here on every step points the record at the replacement (withReplacement).
      await this.instances.save({ ...withReplacement(record, next), updatedAt: iso(now) });
      return next;
    });
    if (!g.ok) return g.outcome;
    this.log.info(
      {
        operationId: op.id,
        instanceId: op.instanceId,
        novitaInstanceId: newId,
        originalNovitaInstanceId: op.migration!.originalNovitaInstanceId,
      },
      'Replacement instance created',
    );
    return this.deleteOld(g.value, now);
  }

  /** The old Novita instance goes only once the replacement exists (its id is recorded by now). */
  async deleteOld(op: OperationRecord, now: number): Promise<StepOutcome> {
    const oldId = op.migration!.originalNovitaInstanceId;
    try {
      await this.novita.deleteInstance(oldId);
    } catch (err) {
      if (!(isAppError(err) && err.code === ErrorCode.NOT_FOUND))
        return this.steps.retryLater(op, now, errorOf(err).message);
    }
    const g = await this.steps.guard(op, async (cur) => {
      const next = this.steps.withStep(cur, 'waiting_running', now, {
        recreate: { ...cur.migration!.recreate!, oldDeletedAt: iso(now) },
      });
      next.deadline = now + this.instancesConfig.startupTimeoutMs;
      await this.repo.save(next, now + this.steps.intervalMs);
      return next;
    });
    return g.ok ? 'advanced' : g.outcome;
  }
}
