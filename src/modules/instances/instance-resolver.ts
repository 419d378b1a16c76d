import { Injectable } from '@nestjs/common';
import { AppError } from '../../common/errors';
import { InstanceRepository } from '../records/instance.repository';
import { InstanceRecord } from '../records/instance.types';

/** Finds the managed instance an action names: by our id or Novita id, or by name. 404 otherwise. */
@Injectable()
export class InstanceResolver {
  constructor(private readonly repo: InstanceRepository) {}

  async byId(id: string): Promise<InstanceRecord> {
    const record = await this.repo.findByAnyId(id);
    if (!record) throw AppError.notFound(`Instance ${id}`, { instanceId: id });
    return record;
  }

  async byName(name: string): Promise<InstanceRecord> {
    const record = await this.repo.findByName(name);
    if (!record)
      throw AppError.notFound(`Instance named ${name}`, { instanceName: name, searchedBy: 'name' });
    return record;
  }
}
