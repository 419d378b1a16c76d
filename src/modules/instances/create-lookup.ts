import { Injectable } from '@nestjs/common';
import { NovitaClient } from '../../infra/novita/novita-client';
import { NovitaInstance } from '../../infra/novita/novita.types';
import { InstanceRepository } from '../records/instance.repository';

/** Clock difference tolerated between this service and Novita when comparing creation times. */
const CLOCK_SKEW_MS = 60_000;

/**
 * Finds the Novita instance a create whose outcome is unknown may have made: same name, created no
 * earlier than the intent was written, and not already tracked by another record. Novita errors
 * propagate: "could not ask" must never be read as "not there".
 */
@Injectable()
export class CreateLookup {
  constructor(
    private readonly novita: NovitaClient,
    private readonly repo: InstanceRepository,
  ) {}

  async findCreated(name: string, notBefore: number, ownRecordId?: string): Promise<NovitaInstance | null> {
    const candidates: NovitaInstance[] = [];
    for await (const inst of this.novita.listAllInstances({ name })) {
      if (inst.name !== name) continue;
      if (inst.createdAt !== undefined && inst.createdAt < notBefore - CLOCK_SKEW_MS) continue;
      if (inst.status === 'removed' || inst.status === 'removing' || inst.status === 'toRemove') continue;
      const tracked = await this.repo.findByNovitaId(inst.id);
      if (tracked && tracked.id !== ownRecordId) continue;
      candidates.push(inst);
    }
    // Newest first: the create that was cut off is the most recent one with this name.
    candidates.sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0));
    return candidates[0] ?? null;
  }
}
